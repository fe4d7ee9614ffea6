package archive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/contrail/contrail/shared/s3upload"
)

// ErrNotFound is returned (wrapped) when an object does not exist, e.g. because a
// compaction deleted it after a reader listed it.
var ErrNotFound = errors.New("archive object not found")

// ObjectInfo is one listed object.
type ObjectInfo struct {
	Key  string
	Size int64
}

// Object is an opened object read by ranges (Parquet readers read the footer and then only
// the column chunks they need).
type Object interface {
	io.ReaderAt
	Size() int64
}

// Store is where the archive lives: S3 in AWS (S3Store), a directory locally and in
// benchmarks (DirStore). Keys use '/' separators.
type Store interface {
	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Get returns a whole object (small objects: parts, rollups).
	Get(ctx context.Context, key string) ([]byte, error)
	// Open returns an object to read by ranges (large objects: compacted days).
	Open(ctx context.Context, key string) (Object, error)
	// Put writes an object, replacing any object with the same key.
	Put(ctx context.Context, key string, body []byte) error
	// Delete removes objects; a missing key is not an error.
	Delete(ctx context.Context, keys []string) error
}

// S3API is the part of *s3.Client the archive uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3Store is a Store on one S3 bucket.
type S3Store struct {
	Client S3API
	Bucket string
	// Lock, when set, writes what the archive keeps for good (compacted objects and
	// rollups) with an S3 Object Lock retention; parts and markers stay deletable.
	Lock *Lock
}

// Lock is the S3 Object Lock retention of the objects the archive keeps for good.
type Lock struct {
	Mode s3types.ObjectLockMode // GOVERNANCE or COMPLIANCE
	Days int
	Now  func() time.Time // nil = time.Now
	// All locks every object written, not only what the archive keeps for good: a bucket
	// that holds nothing else (the log's checkpoint bucket).
	All bool
}

// Applies reports whether the object under key is written locked: a compacted object or a
// day rollup. Parts are replaced by compaction and pending and rejected markers are
// transient; a month rollup is derived from the locked day rollups and rewritten on every
// compaction of its month, so locking each version would keep them all for the retention.
func (l *Lock) Applies(key string) bool {
	return l != nil && l.Days > 0 && (l.All || IsCompacted(key) || strings.HasPrefix(key, RollupsPrefix) && !IsMonthRollup(key))
}

// ParseLock reads ARCHIVE_LOCK_MODE and ARCHIVE_LOCK_DAYS; an empty mode means no lock.
func ParseLock(mode string, days int) (*Lock, error) {
	switch m := s3types.ObjectLockMode(strings.ToUpper(strings.TrimSpace(mode))); m {
	case "":
		return nil, nil
	case s3types.ObjectLockModeGovernance, s3types.ObjectLockModeCompliance:
		if days < 1 {
			return nil, fmt.Errorf("archive lock: %d days; want at least 1", days)
		}
		return &Lock{Mode: m, Days: days}, nil
	default:
		return nil, fmt.Errorf("archive lock mode %q: want GOVERNANCE or COMPLIANCE", mode)
	}
}

func (l *Lock) until() time.Time {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	return now().UTC().AddDate(0, 0, l.Days)
}

var _ Store = (*S3Store)(nil)

func isNotFound(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "404":
			return true
		}
	}
	return false
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if n := aws.ToInt64(out.ContentLength); n > 0 {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(out.Body); err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	return buf.Bytes(), nil
}

// Open implements Store: one HeadObject, then a ranged GetObject per read.
func (s *S3Store) Open(ctx context.Context, key string) (Object, error) {
	h, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("head s3://%s/%s: %w", s.Bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("head s3://%s/%s: %w", s.Bucket, key, err)
	}
	return &s3Object{ctx: ctx, s: s, key: key, size: aws.ToInt64(h.ContentLength), version: h.VersionId}, nil
}

type s3Object struct {
	ctx     context.Context
	s       *S3Store
	key     string
	size    int64
	version *string // pinned, so a delete during the read does not cut it short on versioned buckets
}

func (o *s3Object) Size() int64 { return o.size }

func (o *s3Object) ReadAt(p []byte, off int64) (int, error) {
	if off >= o.size {
		return 0, io.EOF
	}
	end := off + int64(len(p))
	if end > o.size {
		end = o.size
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, end-1)
	out, err := o.s.Client.GetObject(o.ctx, &s3.GetObjectInput{Bucket: &o.s.Bucket, Key: &o.key, Range: &rng, VersionId: o.version})
	if err != nil {
		if isNotFound(err) {
			return 0, fmt.Errorf("get s3://%s/%s %s: %w", o.s.Bucket, o.key, rng, ErrNotFound)
		}
		return 0, fmt.Errorf("get s3://%s/%s %s: %w", o.s.Bucket, o.key, rng, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off])
	if err != nil {
		return n, fmt.Errorf("read s3://%s/%s %s: %w", o.s.Bucket, o.key, rng, err)
	}
	if end-off < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Put implements Store.
func (s *S3Store) Put(ctx context.Context, key string, body []byte) error {
	ct := "application/octet-stream"
	if strings.HasSuffix(key, ".json") {
		ct = "application/json"
	}
	in := &s3.PutObjectInput{
		Bucket: &s.Bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: &ct,
	}
	if s.Lock.Applies(key) {
		// S3 requires a checksum with a retention: the SDK sends CRC32 of the body.
		in.ObjectLockMode = s.Lock.Mode
		in.ObjectLockRetainUntilDate = aws.Time(s.Lock.until())
		in.ChecksumAlgorithm = s3types.ChecksumAlgorithmCrc32
	}
	_, err := s.Client.PutObject(ctx, in)
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Delete implements Store, 1000 keys a request.
func (s *S3Store) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]s3types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.Bucket, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("delete %d objects from s3://%s: %w", n, s.Bucket, err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			return fmt.Errorf("delete s3://%s/%s: %s %s", s.Bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}

// DirStore is a Store in a directory: key k is the file Dir/k. The local stack keeps its
// S3 bucket as such a directory, so the same code can open the archive by hand.
type DirStore struct {
	Dir string
}

var _ Store = (*DirStore)(nil)

func (d *DirStore) path(key string) string { return filepath.Join(d.Dir, filepath.FromSlash(key)) }

// List implements Store.
func (d *DirStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	// Walk the deepest directory the prefix names, then filter by the full prefix.
	dir := prefix
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir = prefix[:i]
	} else {
		dir = ""
	}
	root := d.path(dir)
	var out []ObjectInfo
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(d.Dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			// A folder no key under which can start with prefix (another month's dates when
			// the prefix names a month) is not walked.
			if sub := key + "/"; p != root && !strings.HasPrefix(sub, prefix) && !strings.HasPrefix(prefix, sub) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) || strings.Contains(filepath.Base(p), ".tmp-") {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Get implements Store.
func (d *DirStore) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return b, nil
}

// Open implements Store. The whole file is read at once: on a local disk that is cheaper
// than keeping descriptors open, and a rename-replaced file stays consistent.
func (d *DirStore) Open(ctx context.Context, key string) (Object, error) {
	b, err := d.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return bytesObject{bytes.NewReader(b)}, nil
}

type bytesObject struct{ *bytes.Reader }

// Put implements Store: write a temporary file and rename it, so readers never see half.
func (d *DirStore) Put(ctx context.Context, key string, body []byte) error {
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Delete implements Store.
func (d *DirStore) Delete(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := os.Remove(d.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// openObject opens an object for Parquet reading: small objects in one GET, large ones by
// ranges.
func openObject(ctx context.Context, st Store, o ObjectInfo) (Object, error) {
	if o.Size > 0 && o.Size <= wholeObjectLimit {
		b, err := st.Get(ctx, o.Key)
		if err != nil {
			return nil, err
		}
		return bytesObject{bytes.NewReader(b)}, nil
	}
	return st.Open(ctx, o.Key)
}

// wholeObjectLimit is the size up to which an object is fetched in one request rather
// than by ranges.
const wholeObjectLimit = 16 << 20

// ObjectWriter streams one object into a Store. The object appears whole when Close
// succeeds and never in part; Abort gives it up. One of the two must be called.
type ObjectWriter interface {
	io.Writer
	Close() error
	Abort() error
}

// StreamStore is a Store that writes an object as a stream (DirStore, S3Store), so that a
// large object (a compacted day) is never held whole in memory.
type StreamStore interface {
	Create(ctx context.Context, key string) (ObjectWriter, error)
}

// createObject starts the object key on st: streamed when st can, otherwise held in memory
// and Put on Close.
func createObject(ctx context.Context, st Store, key string) (ObjectWriter, error) {
	if ss, ok := st.(StreamStore); ok {
		return ss.Create(ctx, key)
	}
	return &bufferedObject{ctx: ctx, put: st.Put, key: key}, nil
}

// bufferedObject is an ObjectWriter that holds the object and Puts it on Close.
type bufferedObject struct {
	ctx context.Context
	put func(ctx context.Context, key string, body []byte) error
	key string
	buf bytes.Buffer
}

func (b *bufferedObject) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferedObject) Close() error                { return b.put(b.ctx, b.key, b.buf.Bytes()) }
func (b *bufferedObject) Abort() error                { b.buf = bytes.Buffer{}; return nil }

var (
	_ StreamStore = (*DirStore)(nil)
	_ StreamStore = (*S3Store)(nil)
)

// Create implements StreamStore: a temporary file renamed into place on Close, so readers
// never see half an object.
func (d *DirStore) Create(ctx context.Context, key string) (ObjectWriter, error) {
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &dirObject{f: f, w: bufio.NewWriterSize(f, 1<<20), key: key, path: p}, nil
}

type dirObject struct {
	f         *os.File
	w         *bufio.Writer
	key, path string
}

func (o *dirObject) Write(p []byte) (int, error) { return o.w.Write(p) }

func (o *dirObject) Close() error {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("put %s: %w", o.key, err)
	}
	return nil
}

func (o *dirObject) Abort() error {
	o.f.Close()
	if err := os.Remove(o.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort %s: %w", o.key, err)
	}
	return nil
}

// Create implements StreamStore: a multipart upload in parts of s3upload.PartSize (one
// PutObject when smaller), with the key's Object Lock retention as Put writes it. A client
// without the multipart calls (a test's fake) gets the object held in memory and Put.
func (s *S3Store) Create(ctx context.Context, key string) (ObjectWriter, error) {
	mp, ok := s.Client.(s3upload.S3)
	if !ok {
		return &bufferedObject{ctx: ctx, put: s.Put, key: key}, nil
	}
	opt := s3upload.Options{ContentType: "application/octet-stream"}
	if s.Lock.Applies(key) {
		opt.LockMode, opt.LockUntil = s.Lock.Mode, s.Lock.until()
	}
	return &s3Upload{u: s3upload.New(ctx, mp, s.Bucket, key, opt), bucket: s.Bucket, key: key}, nil
}

type s3Upload struct {
	u           *s3upload.Upload
	bucket, key string
}

func (o *s3Upload) Write(p []byte) (int, error) { return o.u.Write(p) }

func (o *s3Upload) Close() error {
	if _, err := o.u.Close(); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", o.bucket, o.key, err)
	}
	return nil
}

func (o *s3Upload) Abort() error { return o.u.Abort() }

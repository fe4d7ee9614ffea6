// Package s3upload streams one object into S3: an io.Writer that uploads a multipart upload
// part by part (a small object is one PutObject), so memory stays at one part whatever the
// object's size. Export files and the archive's compacted objects are written with it.
package s3upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// PartSize is the size of every part but the last: S3's minimum.
const PartSize = 5 << 20

// S3 is the part of the S3 client an upload uses.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3 = (*s3.Client)(nil)

// Options are the object's headers.
type Options struct {
	ContentType        string
	ContentDisposition string // "" = none
	// LockMode and LockUntil, when set, write the object with an S3 Object Lock retention.
	// S3 wants a checksum with a retention: every request then carries CRC32.
	LockMode  types.ObjectLockMode
	LockUntil time.Time
}

// Upload writes one object. Write buffers at most one part; the multipart upload starts
// with the first full part. Call Close to finish or Abort to give up; one of them must be
// called. The object appears only when Close succeeds.
type Upload struct {
	ctx         context.Context
	client      S3
	bucket, key string
	opt         Options

	buf      bytes.Buffer
	uploadID string
	parts    []types.CompletedPart
	size     int64
	err      error
}

// New starts an upload of bucket/key.
func New(ctx context.Context, client S3, bucket, key string, opt Options) *Upload {
	u := &Upload{ctx: ctx, client: client, bucket: bucket, key: key, opt: opt}
	u.buf.Grow(PartSize)
	return u
}

func (u *Upload) locked() bool { return u.opt.LockMode != "" }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Write buffers p and uploads each full part.
func (u *Upload) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	written := 0
	for len(p) > 0 {
		room := PartSize - u.buf.Len()
		chunk := p
		if len(chunk) > room {
			chunk = p[:room]
		}
		u.buf.Write(chunk)
		written += len(chunk)
		p = p[len(chunk):]
		if u.buf.Len() == PartSize {
			if u.err = u.flush(); u.err != nil {
				return written, u.err
			}
		}
	}
	return written, nil
}

func (u *Upload) flush() error {
	if u.uploadID == "" {
		in := &s3.CreateMultipartUploadInput{
			Bucket: aws.String(u.bucket), Key: aws.String(u.key),
			ContentType: optString(u.opt.ContentType), ContentDisposition: optString(u.opt.ContentDisposition),
		}
		if u.locked() {
			in.ObjectLockMode = u.opt.LockMode
			in.ObjectLockRetainUntilDate = aws.Time(u.opt.LockUntil)
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}
		out, err := u.client.CreateMultipartUpload(u.ctx, in)
		if err != nil {
			return fmt.Errorf("start upload of %s: %w", u.key, err)
		}
		u.uploadID = aws.ToString(out.UploadId)
	}
	num := int32(len(u.parts) + 1)
	in := &s3.UploadPartInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.uploadID),
		PartNumber: aws.Int32(num), Body: bytes.NewReader(u.buf.Bytes()), ContentLength: aws.Int64(int64(u.buf.Len())),
	}
	if u.locked() {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	out, err := u.client.UploadPart(u.ctx, in)
	if err != nil {
		return fmt.Errorf("upload part %d of %s: %w", num, u.key, err)
	}
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num), ChecksumCRC32: out.ChecksumCRC32})
	u.size += int64(u.buf.Len())
	u.buf.Reset()
	return nil
}

// Close uploads what is buffered and completes the object; it returns the object's size.
// On failure the multipart upload is aborted.
func (u *Upload) Close() (int64, error) {
	if u.err != nil {
		return 0, errors.Join(u.err, u.Abort())
	}
	if u.uploadID == "" { // smaller than one part: one PutObject
		n := int64(u.buf.Len())
		in := &s3.PutObjectInput{
			Bucket: aws.String(u.bucket), Key: aws.String(u.key), Body: bytes.NewReader(u.buf.Bytes()),
			ContentLength: aws.Int64(n), ContentType: optString(u.opt.ContentType), ContentDisposition: optString(u.opt.ContentDisposition),
		}
		if u.locked() {
			in.ObjectLockMode = u.opt.LockMode
			in.ObjectLockRetainUntilDate = aws.Time(u.opt.LockUntil)
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}
		if _, err := u.client.PutObject(u.ctx, in); err != nil {
			return 0, fmt.Errorf("put %s: %w", u.key, err)
		}
		u.buf.Reset()
		return n, nil
	}
	if u.buf.Len() > 0 {
		if err := u.flush(); err != nil {
			return 0, errors.Join(err, u.Abort())
		}
	}
	_, err := u.client.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return 0, errors.Join(fmt.Errorf("complete upload of %s: %w", u.key, err), u.Abort())
	}
	return u.size, nil
}

// Abort gives the upload up, deleting the parts uploaded so far. It uses a context of its
// own so that it still runs when the upload's context has expired.
func (u *Upload) Abort() error {
	u.buf.Reset()
	if u.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), 10*time.Second)
	defer cancel()
	_, err := u.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: aws.String(u.uploadID),
	})
	u.uploadID = ""
	if err != nil {
		return fmt.Errorf("abort upload of %s: %w", u.key, err)
	}
	return nil
}

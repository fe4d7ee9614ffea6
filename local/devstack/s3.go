package devstack

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"

	"github.com/contrail/contrail/local/emulator"
)

// s3Server is gofakes3 in process, behind emulator.NewS3 (signed requests only, as S3), with
// a filesystem backend that keeps each object as a plain file at <dir>/<bucket>/<key>, so
// archive Parquet files can be opened by hand.
// gofakes3's metadata (hashes, user metadata) lives beside it in <dir>-meta.
type s3Server struct {
	srv      *http.Server
	Endpoint string
}

func startS3(dir, host string, port int, wrap func(http.Handler) http.Handler, log *slog.Logger) (*s3Server, error) {
	for _, d := range []string{dir, dir + "-meta"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("start S3: %w", err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start S3: %w", err)
	}
	data := afero.NewBasePathFs(afero.NewOsFs(), abs)
	meta := afero.NewBasePathFs(afero.NewOsFs(), abs+"-meta")
	backend, err := s3afero.MultiBucket(&plainFs{data: data, other: meta}, s3afero.MultiWithMetaFs(meta))
	if err != nil {
		return nil, fmt.Errorf("start S3 backend: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("start S3: %w", err)
	}
	var h http.Handler = emulator.NewS3(backend, emulator.S3Options{})
	if wrap != nil {
		h = wrap(h)
	}
	s := &s3Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, Endpoint: "http://" + ln.Addr().String()}
	go func() {
		if err := s.srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("S3 server stopped", "error", err.Error())
		}
	}()
	return s, nil
}

func (s *s3Server) Close() error { return s.srv.Close() }

// bucketsDir is the folder under which s3afero's MultiBucket keeps its buckets.
const bucketsDir = "buckets"

// plainFs maps s3afero's "buckets/<bucket>/<key>" onto data's "<bucket>/<key>", and every
// other path (its scratch files) onto other.
type plainFs struct {
	data, other afero.Fs
}

func (p *plainFs) route(name string) (afero.Fs, string) {
	clean := filepath.ToSlash(filepath.Clean(name))
	clean = strings.TrimPrefix(clean, "/")
	switch {
	case clean == bucketsDir:
		return p.data, "/"
	case strings.HasPrefix(clean, bucketsDir+"/"):
		return p.data, strings.TrimPrefix(clean, bucketsDir)
	}
	return p.other, name
}

func (p *plainFs) Create(name string) (afero.File, error) {
	fs, n := p.route(name)
	return fs.Create(n)
}

func (p *plainFs) Mkdir(name string, perm os.FileMode) error {
	fs, n := p.route(name)
	return fs.Mkdir(n, perm)
}

func (p *plainFs) MkdirAll(name string, perm os.FileMode) error {
	fs, n := p.route(name)
	return fs.MkdirAll(n, perm)
}

func (p *plainFs) Open(name string) (afero.File, error) {
	fs, n := p.route(name)
	return fs.Open(n)
}

func (p *plainFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	fs, n := p.route(name)
	return fs.OpenFile(n, flag, perm)
}

func (p *plainFs) Remove(name string) error {
	fs, n := p.route(name)
	return fs.Remove(n)
}

func (p *plainFs) RemoveAll(name string) error {
	fs, n := p.route(name)
	return fs.RemoveAll(n)
}

func (p *plainFs) Rename(oldname, newname string) error {
	fs1, o := p.route(oldname)
	fs2, n := p.route(newname)
	if fs1 != fs2 {
		return fmt.Errorf("rename %s to %s: across stores", oldname, newname)
	}
	return fs1.Rename(o, n)
}

func (p *plainFs) Stat(name string) (os.FileInfo, error) {
	fs, n := p.route(name)
	return fs.Stat(n)
}

func (p *plainFs) Name() string { return "contrail-plain-s3" }

func (p *plainFs) Chmod(name string, mode os.FileMode) error {
	fs, n := p.route(name)
	return fs.Chmod(n, mode)
}

func (p *plainFs) Chtimes(name string, atime, mtime time.Time) error {
	fs, n := p.route(name)
	return fs.Chtimes(n, atime, mtime)
}

var _ afero.Fs = (*plainFs)(nil)

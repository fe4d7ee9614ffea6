package archive

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/s3bucket"
)

// ReadBucket reads the archive bucket: ARCHIVE_BUCKET (and S3_FORCE_PATH_STYLE, s3bucket.Read).
func ReadBucket(r *env.Reader) s3bucket.Config { return s3bucket.Read(r, "ARCHIVE_BUCKET") }

// NewS3Store returns the store of the archive bucket b, with a client of cfg.
func NewS3Store(cfg aws.Config, b s3bucket.Config) *S3Store {
	return &S3Store{Client: b.Client(cfg), Bucket: b.Name}
}

// The bounds of ARCHIVE_LOCK_DAYS: template.yaml's MinValue and MaxValue of ArchiveLockDays.
const MinLockDays, MaxLockDays = 1, 36500

// CompactorConfig is what the compactor reads from its environment.
type CompactorConfig struct {
	Bucket  s3bucket.Config
	Lock    *Lock // ARCHIVE_LOCK_MODE (empty: none) and ARCHIVE_LOCK_DAYS
	MaxDays int   // COMPACT_MAX_DAYS: tenant-days compacted in one run
}

// ReadCompactorConfig reads the compactor's configuration.
func ReadCompactorConfig(r *env.Reader) CompactorConfig {
	c := CompactorConfig{Bucket: ReadBucket(r), MaxDays: r.Int("COMPACT_MAX_DAYS", 1, 10000)}
	mode, days := r.Optional("ARCHIVE_LOCK_MODE", ""), r.Int("ARCHIVE_LOCK_DAYS", MinLockDays, MaxLockDays)
	lock, err := ParseLock(mode, days)
	// With days out of bounds, ARCHIVE_LOCK_DAYS is reported already.
	if err != nil && days >= MinLockDays {
		r.Invalid("ARCHIVE_LOCK_MODE", mode, "is not GOVERNANCE or COMPLIANCE (or empty: no lock)")
	}
	c.Lock = lock
	return c
}

// NewCompactor returns the compactor of the configured bucket, with a client of cfg and the
// system clock.
func NewCompactor(cfg aws.Config, c CompactorConfig, log *slog.Logger) *Compactor {
	store := NewS3Store(cfg, c.Bucket)
	store.Lock = c.Lock
	return &Compactor{Store: store, Log: log, Clock: ident.SystemClock, MaxDays: c.MaxDays}
}

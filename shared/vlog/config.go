package vlog

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/s3bucket"
	"github.com/contrail/contrail/shared/secret"
)

// The bounds of CHECKPOINT_LOCK_DAYS: template.yaml's MinValue and MaxValue of CheckpointLockDays.
const MinLockDays, MaxLockDays = 1, 36500

// Config is what the sequencer reads from its environment.
type Config struct {
	Table       string          // LOG_TABLE
	Archive     s3bucket.Config // ARCHIVE_BUCKET: tiles and latest checkpoints under log/, markers under sequence/
	Checkpoints s3bucket.Config // CHECKPOINT_BUCKET: every signed checkpoint, Object Lock COMPLIANCE
	LockDays    int             // CHECKPOINT_LOCK_DAYS
	// SigningSecretARN names the Secrets Manager secret the signing key is derived from
	// (LOG_SIGNING_SECRET_ARN); it is read once, at cold start.
	SigningSecretARN string
}

// ReadTable reads LOG_TABLE.
func ReadTable(r *env.Reader) string { return r.String("LOG_TABLE") }

// ReadConfig reads the sequencer's configuration.
func ReadConfig(r *env.Reader) Config {
	return Config{
		Table: ReadTable(r), Archive: archive.ReadBucket(r), Checkpoints: s3bucket.Read(r, "CHECKPOINT_BUCKET"),
		LockDays: r.Int("CHECKPOINT_LOCK_DAYS", MinLockDays, MaxLockDays), SigningSecretARN: r.String("LOG_SIGNING_SECRET_ARN"),
	}
}

// ProofConfig is what the log's routes read: LogTable, the archive bucket (tiles, latest
// checkpoints, the events' leaves) and the audit table (their access events).
type ProofConfig struct {
	Table   string
	Archive s3bucket.Config
	Audit   audit.StoreConfig
}

// ReadProofConfig reads the log routes' configuration.
func ReadProofConfig(r *env.Reader) ProofConfig {
	return ProofConfig{Table: ReadTable(r), Archive: archive.ReadBucket(r), Audit: audit.ReadStore(r)}
}

// NewService returns the log routes' service with clients of cfg.
func NewService(cfg aws.Config, c ProofConfig) *Service {
	db := dynamodb.NewFromConfig(cfg)
	return &Service{
		Log:    &Log{DB: db, Table: c.Table, Archive: archive.NewS3Store(cfg, c.Archive)},
		Events: c.Audit.Writer(db),
		IDs:    ident.NewGenerator(ident.SystemClock),
	}
}

// NewSequencer returns the sequencer of c with clients of cfg: it reads the signing secret
// now (a cold start that cannot fails); its first invocation publishes the verifier keys in
// LogTable (HandleSchedule).
func NewSequencer(cfg aws.Config, c Config, log *slog.Logger) *Sequencer {
	signer, err := NewSigner(secret.MustString(cfg, c.SigningSecretARN))
	if err != nil {
		panic(err.Error())
	}
	// The key of the secret's previous version is published too (rotation: the checkpoints it
	// signed keep verifying); it never signs.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	if prev, ok, err := secret.Previous(ctx, secretsmanager.NewFromConfig(cfg), c.SigningSecretARN); err != nil {
		panic(err.Error())
	} else if ok {
		old, err := NewSigner(prev)
		if err != nil {
			panic(err.Error())
		}
		keys = append(keys, old.VerifierKey())
	}
	checkpoints := archive.NewS3Store(cfg, c.Checkpoints)
	checkpoints.Lock = &archive.Lock{Mode: s3types.ObjectLockModeCompliance, Days: c.LockDays, All: true}
	l := &Log{
		DB: dynamodb.NewFromConfig(cfg), Table: c.Table, Archive: archive.NewS3Store(cfg, c.Archive),
		Checkpoints: checkpoints, Signer: signer, Clock: ident.SystemClock, Log: log,
	}
	return &Sequencer{Log: l, previousKeys: keys}
}

package report

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/s3bucket"
	"github.com/contrail/contrail/shared/secret"
)

// Config is what a report function reads from its environment.
type Config struct {
	Audit   audit.StoreConfig // REPORT_VIEWED goes here; the overview reads its newest items
	Archive s3bucket.Config   // the Parquet archive the reports read
	// The key the logs' cursors are signed with: the secret CursorSecretARN names, which
	// NewService reads.
	CursorSecretARN string
	CursorSecret    string
	// Where the personal-data keys are (the logs only): the logs open the contact names,
	// sealed at write time (shared/pii). The overview shows no names and has no keys.
	Keys pii.Config
}

// ReadConfig reads the configuration of a log function (added, connected, deleted, merged).
func ReadConfig(r *env.Reader) Config {
	c := ReadOverviewConfig(r)
	c.Keys = pii.ReadConfig(r)
	return c
}

// ReadOverviewConfig reads the overview function's configuration: a log's, less the
// personal-data keys (counts need no names, so its role can decrypt none).
func ReadOverviewConfig(r *env.Reader) Config {
	return Config{Audit: audit.ReadStore(r), Archive: archive.ReadBucket(r), CursorSecretARN: httpapi.ReadCursorSecretARN(r)}
}

// NewArchiveEngine returns the engine over an archive store that also asks the audit table
// what it holds beyond the archive (archivedThrough): the report functions' and the export
// worker's.
func NewArchiveEngine(store archive.Store, db audit.QueryAPI, a audit.StoreConfig) *Engine {
	return NewEngine(store, ident.SystemClock).WithAuditTable(db, a.Table, a.Shards)
}

// NewService builds the report service of a function from its configuration, with clients
// of awsCfg; the logs' cursor key is read from Secrets Manager here, once per cold start.
func NewService(awsCfg aws.Config, c Config) *Service {
	if c.CursorSecretARN != "" {
		c.CursorSecret = secret.MustString(awsCfg, c.CursorSecretARN)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	engine := NewArchiveEngine(archive.NewS3Store(awsCfg, c.Archive), db, c.Audit)
	if c.Keys.Table != "" {
		engine.WithKeyring(pii.NewKeyring(awsCfg, c.Keys))
	}
	return &Service{
		Engine:     engine,
		DB:         db,
		AuditTable: c.Audit.Table,
		Keys:       c.Audit.Keys(),
		Retention:  c.Audit.Retention,
		Cursors:    httpapi.NewCursors(c.CursorSecret),
		IDs:        ident.NewGenerator(ident.SystemClock),
	}
}

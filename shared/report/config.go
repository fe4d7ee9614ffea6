package report

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

// Config is what a report function reads from its environment.
type Config struct {
	AuditTable          string // AUDIT_TABLE: REPORT_VIEWED events go here
	ArchiveBucket       string // ARCHIVE_BUCKET
	CursorSecret        string // CURSOR_SECRET
	AuditWriteShards    int    // AUDIT_WRITE_SHARDS
	AccessRetentionDays int    // RETENTION_ACCESS_DAYS: hot retention of REPORT_VIEWED
	S3ForcePathStyle    string // S3_FORCE_PATH_STYLE: "true" against gofakes3 and LocalStack
}

// NewService builds the report service of a function from its configuration.
func NewService(cfg aws.Config, c Config) *Service {
	store := &archive.S3Store{Client: s3.NewFromConfig(cfg, archive.S3Options(c.S3ForcePathStyle)), Bucket: c.ArchiveBucket}
	ids := ident.NewGenerator(ident.SystemClock)
	db := dynamodb.NewFromConfig(cfg)
	return &Service{
		Engine:     NewEngine(store, ident.SystemClock).WithAuditTable(db, c.AuditTable, c.AuditWriteShards),
		DB:         db,
		AuditTable: c.AuditTable,
		Keys:       audit.Keys{Shards: c.AuditWriteShards},
		Retention:  audit.Retention{audit.CategoryAccess: time.Duration(c.AccessRetentionDays) * 24 * time.Hour},
		Cursors:    httpapi.NewCursors(c.CursorSecret),
		IDs:        ids,
	}
}

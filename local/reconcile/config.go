package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/devstack"
	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/vlog"
)

// Config says where a deployment's sources are. Local (the zero value's defaults) is make
// run's stack: its table and bucket names, its usual endpoints and its state folder (the
// local KMS key that opens contact names). AWS reads the default AWS configuration
// (credentials, region, AWS_ENDPOINT_URL_*) and needs the names.
type Config struct {
	AWS bool
	// Table, Bucket, KeysTable and LogTable name the audit table, the archive bucket, the keys
	// table and the verifiable log's table (LOG_TABLE); "" = the local stack's
	// (contrail-AuditTable, contrail-archive, contrail-KeysTable, contrail-LogTable).
	Table, Bucket, KeysTable, LogTable string
	// SequencedWithin is the sequencer's bound (an event not in the log yet is "not yet
	// sequenced" until it has passed); 0 = SequencedWithinAWS with AWS, else
	// SequencedWithinLocal.
	SequencedWithin time.Duration
	// KMSKey is the key wrapping tenant keys (KEYS_KMS_KEY_ARN) with AWS; locally the state
	// folder's key is served from this process.
	KMSKey string
	// DynamoDBEndpoint and S3Endpoint of the local stack; "" = make run's usual ports.
	DynamoDBEndpoint, S3Endpoint string
	// StateDir is the local stack's state folder; "" = <repository>/.local.
	StateDir string
	// Shards and the retention days: "" parameters take template.yaml's defaults.
	Shards    int
	Retention audit.Retention
}

// Open builds the checker c describes; close releases what it started (the local KMS).
func Open(ctx context.Context, c Config) (_ *Checker, closeFn func(), err error) {
	tplPath, err := template.Find()
	if err != nil {
		return nil, nil, err
	}
	tpl, err := template.Load(tplPath)
	if err != nil {
		return nil, nil, err
	}
	param := func(name string) int {
		v, _ := tpl.Parameter(name)
		n, _ := strconv.Atoi(v)
		return n
	}
	if c.Shards == 0 {
		c.Shards = param("AuditWriteShards")
	}
	if c.Retention == nil {
		c.Retention = audit.RetentionDays(param("RetentionContactDays"), param("RetentionPlatformDays"), param("RetentionAccessDays"), param("RetentionCobrowseDays"))
	}
	closeFn = func() {}
	var cfg aws.Config
	var db *dynamodb.Client
	var s3c *s3.Client
	var wrapper pii.Wrapper
	if c.AWS {
		if c.Table == "" || c.Bucket == "" || c.LogTable == "" {
			return nil, nil, errors.New("with -aws, -table, -bucket and -log-table are required (and -keys-table and -kms-key to open contact names)")
		}
		if c.SequencedWithin == 0 {
			c.SequencedWithin = SequencedWithinAWS
		}
		if cfg, err = config.LoadDefaultConfig(ctx); err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		db, s3c = dynamodb.NewFromConfig(cfg), s3.NewFromConfig(cfg)
		if c.KMSKey != "" {
			wrapper = &pii.KMSWrapper{KMS: kms.NewFromConfig(cfg), KeyID: c.KMSKey}
		}
	} else {
		if c.Table == "" {
			c.Table = devstack.TableName("contrail", "AuditTable")
		}
		if c.KeysTable == "" {
			c.KeysTable = devstack.TableName("contrail", "KeysTable")
		}
		if c.LogTable == "" {
			c.LogTable = devstack.TableName("contrail", "LogTable")
		}
		if c.SequencedWithin == 0 {
			c.SequencedWithin = SequencedWithinLocal
		}
		if c.Bucket == "" {
			c.Bucket = devstack.BucketName("contrail", "ArchiveBucket")
		}
		if c.DynamoDBEndpoint == "" {
			c.DynamoDBEndpoint = "http://127.0.0.1:8000"
		}
		if c.S3Endpoint == "" {
			c.S3Endpoint = "http://127.0.0.1:4569"
		}
		if c.StateDir == "" {
			c.StateDir = filepath.Join(filepath.Dir(tplPath), ".local")
		}
		cfg = emulator.Config(c.DynamoDBEndpoint)
		db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
		s3c = s3.NewFromConfig(emulator.Config(c.S3Endpoint), func(o *s3.Options) { o.UsePathStyle = true })
		keyFile := filepath.Join(c.StateDir, devstack.KMSKeyFile)
		if _, err := os.Stat(keyFile); err != nil {
			return nil, nil, fmt.Errorf("the local stack's KMS key (it opens the contact names the logs show): %w; is %s make run's state folder?", err, c.StateDir)
		}
		url, arn, stop, err := serveKMS(keyFile)
		if err != nil {
			return nil, nil, err
		}
		closeFn = stop
		k := kms.NewFromConfig(emulator.Config(url))
		wrapper = &pii.KMSWrapper{KMS: k, KeyID: arn}
	}
	store := &archive.S3Store{Client: s3c, Bucket: c.Bucket}
	engine := report.NewEngine(store, ident.SystemClock)
	if c.KeysTable != "" && wrapper != nil {
		engine.WithKeyring(&pii.Keyring{DB: db, Table: c.KeysTable, Wrapper: wrapper})
	}
	return &Checker{
		DynamoDB:  &AuditTable{DB: db, Table: c.Table, Shards: c.Shards},
		Archive:   &Archive{Store: store},
		Log:       &VerifiableLog{Log: &vlog.Log{DB: db, Table: c.LogTable}, SequencedWithin: c.SequencedWithin},
		Reports:   engine,
		Retention: c.Retention,
	}, closeFn, nil
}

// serveKMS serves the local stack's KMS key (make run's own KMS listens on a port nobody
// else learns) from this process, on a free loopback port.
func serveKMS(keyFile string) (url, keyARN string, stop func(), err error) {
	k, err := emulator.NewKMS(emulator.KMSOptions{KeyFile: keyFile})
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	srv := &http.Server{Handler: k, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), k.KeyARN(), func() { srv.Close() }, nil
}

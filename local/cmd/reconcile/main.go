// Command reconcile compares, for one tenant and period, the events in DynamoDB, the distinct
// events of the Parquet archive, the leaves of the tenant's verifiable log and every contact
// report count (local/reconcile), and prints
// each difference with the event ids behind it. Exit status: 0 all agree, 1 they differ,
// 2 usage error, 3 a source could not be read.
//
//	make reconcile TENANT=demo FROM=2026-12-01 TO=2026-12-08
//	go run ./local/cmd/reconcile -tenant acme -from 2026-12-01 -to 2026-12-08 -aws -table T -bucket B -log-table L -keys-table K -kms-key ARN
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/contrail/contrail/local/reconcile"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/tenant"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitAgree   = 0
	exitDiffer  = 1
	exitUsage   = 2
	exitFailure = 3
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: make reconcile TENANT=<id> FROM=<date> TO=<date> [RECONCILE_FLAGS="..."]
       reconcile -tenant <id> -from <date> -to <date> [flags]

Compares, for the tenant and the period [from, to) (YYYY-MM-DD or RFC 3339, UTC):
  - the events in DynamoDB (the audit table, while retained): ids and counts per type;
  - the distinct events in the Parquet archive, as every reader reads it: ids and counts
    per type, and events stored in more than one archive object;
  - the leaves of the tenant's verifiable log whose events occurred in the period: events of
    either store it does not hold (not yet sequenced while recorded within -sequenced-within,
    missing after), events it holds twice, leaves whose event is in neither store, and leaves
    whose record hash is not the hash of the leaf rebuilt from the archived event;
  - every report count: the overview's totals and the Added, Connected, Deleted and Merged
    logs' rows, computed by the report engine from the archive, against DynamoDB's events.
Prints each difference with the event ids behind it. Exit status: 0 when all agree, 1 when
they differ, 2 on a usage error, 3 when a source cannot be read.
`+reconcile.NotCovered+`.

Against the local stack (make run) by default; -aws reads the default AWS configuration.

flags:
`)
		fs.PrintDefaults()
	}
	var c reconcile.Config
	tn := fs.String("tenant", "", "tenant id (required)")
	from := fs.String("from", "", "start of the period, inclusive (required)")
	to := fs.String("to", "", "end of the period, exclusive (required)")
	fs.BoolVar(&c.AWS, "aws", false, "read AWS (default credentials and region) instead of the local stack")
	fs.StringVar(&c.Table, "table", "", "audit table; default the local stack's contrail-AuditTable")
	fs.StringVar(&c.Bucket, "bucket", "", "archive bucket; default the local stack's contrail-archive")
	fs.StringVar(&c.KeysTable, "keys-table", "", "keys table (opens the contact names the logs read); default the local stack's")
	fs.StringVar(&c.LogTable, "log-table", "", "the verifiable log's table (LOG_TABLE); default the local stack's contrail-LogTable")
	fs.DurationVar(&c.SequencedWithin, "sequenced-within", 0, "the sequencer's bound: an event newer than this may not be in the log yet; default 5m with -aws, 30s locally")
	fs.StringVar(&c.KMSKey, "kms-key", "", "with -aws: the KMS key that wraps tenant keys (KEYS_KMS_KEY_ARN)")
	fs.StringVar(&c.DynamoDBEndpoint, "dynamodb", "", "the local stack's DynamoDB endpoint; default http://127.0.0.1:8000")
	fs.StringVar(&c.S3Endpoint, "s3", "", "the local stack's S3 endpoint; default http://127.0.0.1:4569")
	fs.StringVar(&c.StateDir, "state", "", "the local stack's state folder (its KMS key); default .local at the repository root")
	fs.IntVar(&c.Shards, "shards", 0, "the audit table's write shards; default template.yaml's AuditWriteShards")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 || *tn == "" || *from == "" || *to == "" {
		fmt.Fprintln(stderr, "reconcile: -tenant, -from and -to are required (and nothing else)")
		fs.Usage()
		return exitUsage
	}
	t := tenant.ID(*tn)
	if !t.Valid() {
		fmt.Fprintf(stderr, "reconcile: %q is not a tenant id\n", *tn)
		return exitUsage
	}
	p, err := httpapi.ParsePeriod(*from, *to, "UTC", time.Now(), report.MaxOverviewDays)
	if err != nil {
		fmt.Fprintf(stderr, "reconcile: the period: %v\n", err)
		return exitUsage
	}
	chk, closeFn, err := reconcile.Open(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "reconcile: %v\n", err)
		return exitUsage
	}
	defer closeFn()
	res, err := chk.Run(ctx, t, p.From, p.To)
	if err != nil {
		fmt.Fprintf(stderr, "reconcile: %v\n", err)
		return exitFailure
	}
	if err := res.Write(stdout); err != nil {
		return exitFailure
	}
	if !res.Agree() {
		return exitDiffer
	}
	return exitAgree
}

package main

import (
	"math"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// costCase is a model input with round numbers, so every expected value below can be
// worked out by hand: one tenant, one event a second, half of them new contacts and half
// ingested in batches of 100, a vCPU at 1,024 MB, one write shard, stream batches of at
// most 2 (so every batch is full: 2 events, 1 part).
func costCase() (Workload, Figures, Settings, Assumptions) {
	year := 365 * 86400.0
	w := Workload{Tenants: 1, EventsPerYear: year, HottestPerYear: year, TenantEvents: []float64{year}, Adds: 0.5, Ingested: 0.5}
	f := Figures{
		Create:        Action{Function: "F", WCU: 2, RCU: 1, Calls: 1, CPU: 0.001},
		Ingest100:     Action{Function: "F", WCU: 400, Calls: 4, CPU: 0.01},
		EventTableWCU: 2, EventItemBytes: 1000, GSIsPerEvent: 1,
		PartRequests: 2, ArchivePartCPU: 0.001,
		CompactRequests:  S3Requests{Put: 2, Get: 2, List: 1, Delete: 1},
		StoredBytesEvent: 100,
	}
	s := Settings{WriteShards: 1, ArchiverBatch: 2, ArchiverWindow: 2, ArchiverReserved: 10, Reserved: 10, StreamReaders: 2,
		CompactEvery: 300, CompactMaxDays: 200, APIRateLimit: 100, RetentionDays: 365, ArchiveStandardDays: 90,
		Memory: map[string]int{"F": 1024, "ArchiverFunction": 1024, "CompactorFunction": 1024}}
	a := Assumptions{PeakFactor: 2, DDBLatency: 0.004, S3PutLatency: 0.03, S3GetLatency: 0.01, LogBytesRequest: 1000,
		ContactBytes: 1000, MonthsArchived: 12, FullVCPUMemory: 1024, PartitionBytes: 1e12, PartitionWCU: 1000,
		PartitionRCU: 3000, S3PutPrefix: 3500, AccountLambda: 1000}
	return w, f, s, a
}

func TestCostModel(t *testing.T) {
	w, f, s, a := costCase()
	got := Model(1, w, f, s, a, listPrices)
	// A month: 2,628,000 events, 1,314,000 creates and 13,140 ingests.
	wantCost := []Cost{
		{Item: "DynamoDB writes", Dollars: 4.9275},         // 7,884,000 WRU × $0.625/M
		{Item: "DynamoDB reads", Dollars: 0.16425},         // 1,314,000 RRU × $0.125/M
		{Item: "DynamoDB storage + PITR", Dollars: 35.478}, // (63.072 GB of events and GSI + 15.768 GB of contacts) × $0.45
		{Item: "S3 requests", Dollars: 13.276512},          // 2,653,920 PUT/LIST (a part and its marker a batch, 3 a compaction), 17,280 GET
		{Item: "S3 storage", Dollars: 0.0476982},           // 3.1536 GB, a quarter Standard
		{Item: "Lambda", Dollars: 1.700053050456},          // 87,756.84 GB-s (a batch 61 ms), 2,649,780 invocations
		{Item: "API Gateway (HTTP API)", Dollars: 1.32714}, // 1,327,140 requests
		{Item: "SES", Dollars: 0},                          // no emails
		{Item: "CloudWatch Logs", Dollars: 1.32489},        // 2.64978 GB
	}
	approx := cmpopts.EquateApprox(1e-9, 1e-12)
	if d := cmp.Diff(wantCost, got.Cost, approx, cmpopts.IgnoreFields(Cost{}, "How")); d != "" {
		t.Errorf("costs (-want +got):\n%s", d)
	}
	total := 0.0
	for _, c := range wantCost {
		total += c.Dollars
	}
	if math.Abs(got.Total-total) > 1e-9 {
		t.Errorf("total %v, want %v", got.Total, total)
	}
	if got.AthenaBytes != 10e6 || got.AthenaReport != 0.00005 {
		t.Errorf("Athena: %v bytes for $%v, want the 10 MB minimum for $0.00005", got.AthenaBytes, got.AthenaReport)
	}
	wantGBs := map[string]float64{
		"F":                 6911.64, // creates 5 ms and ingests 26 ms, at 1 GB
		"ArchiverFunction":  80154,   // 1,314,000 batches of 61 ms
		"CompactorFunction": 691.2,   // 8,640 runs of 80 ms
	}
	if d := cmp.Diff(wantGBs, got.LambdaGBs, approx); d != "" {
		t.Errorf("GB-seconds (-want +got):\n%s", d)
	}
	wantUse := map[string]float64{
		"DynamoDB partition writes, hottest tenant-day key":                           4,     // 2 events/s × 2 WRU, one shard
		"DynamoDB partition reads, hottest tenant's log pages (all on one partition)": 0,     // no log views
		"readers per audit stream shard":                                              2,     // archiver and mailer
		"archiver concurrency at peak":                                                0.061, // a batch a second, 1 ms of CPU and 2 PUTs: 61 ms
		"S3 PUTs on pending/ (one marker per part)":                                   1,     // a part a batch
		"compactor run within its 5-minute slot":                                      0.08,  // 2 GETs and 2 PUTs of latency, no CPU
		"tenant-days with new parts per compactor run":                                1,     // the one tenant, every run
		"HTTP API requests at peak":                                                   1.0240277777777778,
		"Lambda concurrency at peak (account)":                                        0.005333055555555555,
	}
	gotUse := map[string]float64{}
	for _, l := range got.Limits {
		gotUse[l.Name] = l.Demand
	}
	if d := cmp.Diff(wantUse, gotUse, approx); d != "" {
		t.Errorf("limit demands (-want +got):\n%s", d)
	}
}

func TestCostCobrowseRetention(t *testing.T) {
	w, f, s, a := costCase()
	// A quarter of the events are co-browsing, held 73 days instead of 365: the hot table
	// holds 0.75 + 0.25 × 0.2 = 0.8 of a year, 50.4576 GB of events and GSI entries.
	w.Cobrowse, s.CobrowseDays = 0.25, 73
	got := Model(1, w, f, s, a, listPrices)
	want := (50.4576 + 15.768) * 0.45
	if c := got.Cost[2]; c.Item != "DynamoDB storage + PITR" || math.Abs(c.Dollars-want) > 1e-9 {
		t.Errorf("%s = $%v, want $%v", c.Item, c.Dollars, want)
	}
}

func TestCostCrossings(t *testing.T) {
	w, f, s, a := costCase()
	c := crossings(w, f, s, a, listPrices)
	// The HTTP API's 1.024 req/s of 100 grows linearly: met first at 97.65×, the grid's
	// next step 10^1.99.
	if c[0].Limit.Name != "HTTP API requests at peak" || c[0].K != math.Pow(10, 1.99) {
		t.Errorf("first limit %q at %v×, want the HTTP API at %v×", c[0].Limit.Name, c[0].K, math.Pow(10, 1.99))
	}
	for _, x := range c {
		if x.Limit.Name == constantLimit {
			t.Errorf("the stream readers are listed as a growing limit")
		}
	}
}

func TestCostArchiverBatches(t *testing.T) {
	s := Settings{ArchiverBatch: 1000, ArchiverWindow: 2}
	for _, tc := range []struct {
		name                string
		rate, shards, keys  float64
		wantEvents, wantPts float64
	}{
		// 0.2 expected in a window: a batch holds 0.2/(1-e^-0.2) events, one part.
		{"slow: about one event a batch", 0.1, 1, 4, 1.103331113225399, 1},
		{"window fills", 10, 2, 3, 10.000454019910096, 2.8929942154359525},
		{"parts fewer than events", 3, 1, 100, 6.014909469941068, 5.837586804897193},
		{"batch size caps", 10_000, 1, 5, 1000, 5},
		{"nothing arrives: a batch is one event", 0, 1, 5, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, parts := archiverBatches(tc.rate, tc.shards, tc.keys, s)
			if math.Abs(ev-tc.wantEvents) > 1e-12 || math.Abs(parts-tc.wantPts) > 1e-12 {
				t.Errorf("archiverBatches = %v events, %v parts; want %v, %v", ev, parts, tc.wantEvents, tc.wantPts)
			}
		})
	}
}

func TestCostGBSeconds(t *testing.T) {
	a := Assumptions{FullVCPUMemory: 1024}
	s := Settings{Memory: map[string]int{"half": 512, "full": 2048}}
	for _, tc := range []struct {
		fn        string
		cpu, wait float64
		want      float64
	}{
		{"half", 0.001, 0.004, 0.003},  // 2 ms of CPU on half a vCPU + 4 ms: 6 ms × 0.5 GB
		{"full", 0.001, 0.0001, 0.004}, // 1.1 ms rounds up to 2 ms, × 2 GB
		{"half", 0, 0, 0},
	} {
		if got := a.gbSeconds(s, tc.fn, tc.cpu, tc.wait); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("gbSeconds(%s, %v, %v) = %v, want %v", tc.fn, tc.cpu, tc.wait, got, tc.want)
		}
	}
}

func TestCostWorkloadFromMix(t *testing.T) {
	cat := map[string]string{"CONTACT_ADDED": "contact", "CONTACT_CONNECTED": "contact", "CONTACT_INVITED": "contact", "COMMENT_ADDED": "contact",
		"CLICK": "cobrowse", "EMAIL_DELIVERED": "email", "AUDIT_LOG_VIEWED": "access", "REPORT_VIEWED": "access"}
	mix := map[string]int{"CONTACT_ADDED": 200, "CONTACT_CONNECTED": 50, "CONTACT_INVITED": 100, "COMMENT_ADDED": 50, "CLICK": 400,
		"EMAIL_DELIVERED": 100, "AUDIT_LOG_VIEWED": 50, "REPORT_VIEWED": 50}
	got := workloadFromMix(mix, func(t string) string { return cat[t] })
	want := Workload{Adds: 0.2, Connects: 0.05, Emails: 0.1, OtherActions: 0.05, Ingested: 0.4, Cobrowse: 0.4, Outcomes: 0.1, LogViews: 0.05, ReportViews: 0.05}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("shares (-want +got):\n%s", d)
	}
}

func TestCostItemSize(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"strings", map[string]types.AttributeValue{"pk": s("abc"), "sk": s("Ω")}, 2 + 3 + 2 + 2},
		{"number", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "12345"}}, 1 + 4},
		{"map and list", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": s("xy")}},
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), &types.AttributeValueMemberBOOL{Value: true}}}},
			1 + (3 + 1 + 1 + 2) + 1 + (3 + 2 + 1 + 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ddbSize(tc.item); got != tc.want {
				t.Errorf("ddbSize = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCostTransactionUnits(t *testing.T) {
	m := &ddbMeter{gsiKeys: map[string][]string{"audit": {"typeKey", "contactKey"}}}
	small := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "typeKey": &types.AttributeValueMemberS{Value: "t"}}
	big := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: string(make([]byte, 1500))},
		"typeKey": &types.AttributeValueMemberS{Value: "t"}, "contactKey": &types.AttributeValueMemberS{Value: "c"}}
	total, table := m.transaction(&dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("audit"), Item: small}}, // 2 + 1 GSI
		{Put: &types.Put{TableName: aws.String("audit"), Item: big}},   // 2 KB: 4 + 2 GSIs × 2
		{Put: &types.Put{TableName: aws.String("contacts"), Item: small}},
		{Update: &types.Update{TableName: aws.String("contacts")}},
	}})
	if total != 3+8+2+2 || table != 2+4+2+2 {
		t.Errorf("transaction = %v total, %v table; want 15, 10", total, table)
	}
}

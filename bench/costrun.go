package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/audit"
)

// costScales are the multiples of the bench's data set the model answers for.
var costScales = []float64{1, 10, 100, 1000}

// runCost is `bench -cost`: measure the per-event figures on the stand-ins, then print
// them, the assumptions and the model's table for 1×, 10×, 100× and 1,000× the full data
// set. -scale smoke measures on fewer events and runs (the model is the same).
func runCost(ctx context.Context, o options, w io.Writer) error {
	t0 := time.Now()
	n, runs := 20_000, 40
	if o.smoke {
		n, runs = 3_000, 5
	}
	s, err := costSettings(o.root)
	if err != nil {
		return err
	}
	logf("cost: measuring on DynamoDB Local and the in-process S3 (%d events archived, %d runs a request)", n, runs)
	f, err := measureCost(ctx, o, n, runs)
	if err != nil {
		return err
	}
	f.EventItemBytes, f.GSIsPerEvent, err = eventItems(o.seed)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	wl := benchWorkload()
	fmt.Fprintln(w)
	fmt.Fprintln(w, machineLine(o.threads))
	fmt.Fprintf(w, "measured in %s on %d archived events (%s scale), %d runs a request\n\n", time.Since(t0).Round(time.Second), n, o.scale.Name, runs)
	printFigures(w, f, s)
	fmt.Fprintf(w, "\n1× = the full bench data set: %d tenants, %s events a year (%s a day), the busiest tenant %s a year (%.1f%%).\n",
		wl.Tenants, count(wl.EventsPerYear), count(wl.EventsPerYear/365), count(wl.HottestPerYear), wl.HottestPerYear/wl.EventsPerYear*100)
	printAssumptions(w, s, defaultAssumptions, listPrices)
	fmt.Fprintln(w)
	var out []Scale
	for _, k := range costScales {
		out = append(out, Model(k, wl, f, s, defaultAssumptions, listPrices))
	}
	printCost(w, out)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| limit (all but the stream readers grow with the data) | met at | demand there | what moves it |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, c := range crossings(wl, f, s, defaultAssumptions, listPrices) {
		at, demand := "not below 100,000×", "–"
		if !math.IsInf(c.K, 1) {
			at = num(c.K) + "×"
			demand = fmt.Sprintf("%s of %s %s", num(c.Limit.Demand), num(c.Limit.Max), c.Limit.Unit)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c.Limit.Name, at, demand, c.Limit.Fix)
	}
	fmt.Fprintf(w, "| %s | at 1× | %d of 2 | %s |\n", constantLimit, s.StreamReaders, out[0].Limits[2].Fix)
	fmt.Fprintln(w)
	for _, c := range out[len(out)-1].Cost {
		fmt.Fprintf(w, "- at %s×, %s: %s\n", num(out[len(out)-1].K), c.Item, c.How)
	}
	return nil
}

// printFigures prints the measured inputs.
func printFigures(w io.Writer, f Figures, s Settings) {
	fmt.Fprintln(w, "| measured path | function (MB) | WRU | RRU | DynamoDB calls | CPU here |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for _, a := range []Action{f.Create, f.Connect, f.Message, f.Comment, f.Ingest100, f.LogPage, f.Report, f.Mail} {
		fmt.Fprintf(w, "| %s | %s (%d) | %.1f | %.1f | %.1f | %s |\n", a.Name, a.Function, s.Memory[a.Function], a.WCU, a.RCU, a.Calls, fmtDur(time.Duration(a.CPU*1e9)))
	}
	fmt.Fprintf(w, "\naudit item %.0f B, %.2f GSI entries an event, %.2f base-table WRU an ingested event; sequencer: not measured (SequenceLogFunction reads the archiver's sequence markers, not the stream; its index item per event is DynamoDB writes not in this model)\n", f.EventItemBytes, f.GSIsPerEvent, f.EventTableWCU)
	fmt.Fprintf(w, "archiver: %.1f S3 PUTs a part, CPU %s a part + %s an event; compaction of a tenant-day: %.1f PUT, %.1f GET/HEAD, %.1f LIST, %.1f DELETE, CPU %s an event\n",
		f.PartRequests, fmtDur(time.Duration(f.ArchivePartCPU*1e9)), fmtDur(time.Duration(f.ArchiveCPU*1e9)),
		f.CompactRequests.Put, f.CompactRequests.Get, f.CompactRequests.List, f.CompactRequests.Delete, fmtDur(time.Duration(f.CompactCPU*1e9)))
	fmt.Fprintf(w, "archive: parts %.0f B an event in batches of 1,000 (deleted by compaction); kept %.0f B an event (compacted Parquet, of which rollups %.1f B); an overview's columns %.0f B an event (what Athena scans)\n",
		f.PartBytesEvent, f.StoredBytesEvent, f.RollupBytesEvent, f.AthenaBytesEvent)
	fmt.Fprintf(w, "a month's overview: %.0f GET/HEAD, %.0f LIST, %.0f PUT on S3\n", f.ReportRequests.Get, f.ReportRequests.List, f.ReportRequests.Put)
}

// check refuses figures a measurement left at zero: a path that wrote, read or archived
// nothing measured nothing.
func (f Figures) check() error {
	for _, a := range []Action{f.Create, f.Connect, f.Message, f.Comment, f.Ingest100, f.LogPage, f.Report, f.Mail} {
		if a.WCU <= 0 || a.Calls <= 0 || a.CPU <= 0 {
			return fmt.Errorf("cost: %q measured %+v: no write, call or CPU", a.Name, a)
		}
	}
	if f.Ingest100.WCU < 200 || f.EventTableWCU < 1 || f.LogPage.RCU <= 0 || f.Report.RCU <= 0 {
		return fmt.Errorf("cost: units too low to be real: ingest %v WRU, %v base-table WRU an event, page %v RRU, report %v RRU",
			f.Ingest100.WCU, f.EventTableWCU, f.LogPage.RCU, f.Report.RCU)
	}
	if f.PartRequests < 1 || f.CompactRequests.Put < 1 || f.CompactRequests.Get < 1 || f.StoredBytesEvent <= 0 || f.AthenaBytesEvent <= 0 || f.ArchiveCPU <= 0 || f.CompactCPU <= 0 {
		return fmt.Errorf("cost: the archive path measured nothing: %+v", f)
	}
	return nil
}

// printAssumptions lists every number the model assumes, with the prices.
func printAssumptions(w io.Writer, s Settings, a Assumptions, p Prices) {
	fmt.Fprintf(w, "Assumed (not measured here):\n")
	fmt.Fprintf(w, "- peak second = %.0f× the year's average second (business hours 1.7×, busiest days 1.2×, bursts 2×)\n", a.PeakFactor)
	fmt.Fprintf(w, "- Lambda CPU: this machine's CPU time (AMD64) taken as arm64's; a function gets memory/%.0f MB of a vCPU\n", a.FullVCPUMemory)
	fmt.Fprintf(w, "- waits in Lambda, same region: %.0f ms a DynamoDB call, %.0f ms an S3 PUT, %.0f ms an S3 GET; %.0f B of logs an invocation\n",
		a.DDBLatency*1000, a.S3PutLatency*1000, a.S3GetLatency*1000, a.LogBytesRequest)
	fmt.Fprintf(w, "- a contact action other than connect, message, invite and share costs what a comment costs; invite and share what a message costs; %.0f B of DynamoDB a contact; priced after %.0f months of data (hot retention %.0f days, co-browsing %.0f; archive Standard for %.0f days then IA)\n",
		a.ContactBytes, a.MonthsArchived, s.RetentionDays, s.CobrowseDays, s.ArchiveStandardDays)
	fmt.Fprintf(w, "- a stream shard per table partition, a partition per %.0f GB of base table or %.0f WCU/s; partition key limits %.0f WCU/s, %.0f RCU/s; S3 %.0f PUT/s a prefix; %.0f Lambda executions an account\n",
		a.PartitionBytes/1e9, a.PartitionWCU, a.PartitionWCU, a.PartitionRCU, a.S3PutPrefix, a.AccountLambda)
	fmt.Fprintf(w, "- k× = k copies of the bench's six tenants, and a hottest tenant k times the busiest (the worst case for one partition)\n")
	fmt.Fprintf(w, "Settings from template.yaml: %d write shards; archiver BatchSize %d, window %.0f s, reserved %d; %d readers on the audit stream; compactor every %.0f s, %d tenant-days a run; HTTP API %.0f req/s\n",
		s.WriteShards, s.ArchiverBatch, s.ArchiverWindow, s.ArchiverReserved, s.StreamReaders, s.CompactEvery, s.CompactMaxDays, s.APIRateLimit)
	fmt.Fprintf(w, "Prices, us-east-1 list as known on %s (not looked up): DynamoDB on-demand $%.3f/M WRU, $%.3f/M RRU, $%.2f/GB-month + PITR $%.2f; S3 $%.3f/1k PUT/LIST, $%.4f/1k GET, $%.3f/GB-month Standard, $%.4f IA; Lambda arm64 $%.10f/GB-s, $%.2f/M requests; HTTP API $%.2f/M; SES $%.2f/1k emails; CloudWatch Logs $%.2f/GB; Athena $%.0f/TB scanned (10 MB minimum); stream reads by Lambda free\n",
		priceDate, p.DDBWriteMillion, p.DDBReadMillion, p.DDBStorageGB, p.DDBPITRGB, p.S3PutThousand, p.S3GetThousand, p.S3StandardGB, p.S3IAGB,
		p.LambdaGBSecond, p.LambdaMillion, p.HTTPAPIMillion, p.SESThousand, p.LogsIngestGB, p.AthenaTB)
}

// benchWorkload is the full data set of gen.go and its event mix.
func benchWorkload() Workload {
	m := map[string]int{}
	for _, x := range mix {
		m[x.typ] = x.n
	}
	w := workloadFromMix(m, audit.CategoryOf)
	w.Tenants = len(scales["full"].Tenants)
	for _, t := range scales["full"].Tenants {
		w.EventsPerYear += float64(t.Events)
		w.TenantEvents = append(w.TenantEvents, float64(t.Events))
		w.HottestPerYear = max(w.HottestPerYear, float64(t.Events))
	}
	return w
}

// eventItems sizes the audit items of a day of the busiest tenant's generated events (the
// whole mix, unsealed) as DynamoDB does, and counts their GSI entries.
func eventItems(seed uint64) (bytes, gsis float64, err error) {
	g := gen{seed: seed, sc: scales["full"]}
	days := g.days()
	evs := g.dayEvents(scales["full"].Tenants[0], len(days)-2, days[len(days)-2], 5000, 100_000)
	keys := audit.Keys{Shards: 4}
	ret := audit.RetentionDays(400, 400, 400, 30)
	for i := range evs {
		item, err := keys.Item(&evs[i], ret)
		if err != nil {
			return 0, 0, err
		}
		bytes += float64(ddbSize(item))
		for _, k := range []string{"contactKey", "typeKey", "actorKey", "categoryKey", "sessionKey"} {
			if _, ok := item[k]; ok {
				gsis++
			}
		}
	}
	return bytes / float64(len(evs)), gsis / float64(len(evs)), nil
}

// ddbSize is an item's size as DynamoDB counts it: each attribute's name plus its value;
// strings and binaries their bytes, numbers one byte per two significant digits plus one,
// booleans and nulls one byte, maps and lists three bytes plus one per element plus their
// elements (a map's names included).
func ddbSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		digits := 0
		for _, r := range x.Value {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		return (digits+1)/2 + 1
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		return 3 + len(x.Value) + ddbSize(x.Value)
	case *types.AttributeValueMemberL:
		n := 3 + len(x.Value)
		for _, e := range x.Value {
			n += avSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	}
	return 0
}

// costSettings reads the settings the limits depend on from template.yaml: parameters'
// defaults, the audit stream's mappings, memory sizes, reserved concurrency, the
// compactor's rate.
func costSettings(root string) (Settings, error) {
	path := filepath.Join(root, template.FileName)
	tpl, err := template.Load(path)
	if err != nil {
		return Settings{}, err
	}
	param := func(name string) float64 {
		v, _ := tpl.Parameter(name)
		x, _ := strconv.ParseFloat(v, 64)
		return x
	}
	s := Settings{WriteShards: int(param("AuditWriteShards")), APIRateLimit: param("ApiThrottlingRateLimit"),
		RetentionDays: param("RetentionPlatformDays"), CobrowseDays: param("RetentionCobrowseDays"), ArchiveStandardDays: param("ArchiveTransitionDays"), Memory: map[string]int{}}
	for _, fn := range tpl.Functions() {
		s.Memory[fn.LogicalID] = fn.MemorySize
		for _, st := range fn.Streams {
			if st.Table != "AuditTable" {
				continue
			}
			s.StreamReaders++
			if fn.LogicalID == "ArchiverFunction" {
				s.ArchiverBatch, s.ArchiverWindow = st.BatchSize, float64(st.MaxBatchingWindowSeconds)
			}
		}
		if fn.LogicalID == "CompactorFunction" && len(fn.Schedules) > 0 {
			m := regexp.MustCompile(`^rate\((\d+) minutes?\)$`).FindStringSubmatch(fn.Schedules[0].Expression)
			if m == nil {
				return s, fmt.Errorf("compactor schedule %q: want rate(N minutes)", fn.Schedules[0].Expression)
			}
			every, _ := strconv.Atoi(m[1])
			s.CompactEvery = float64(every * 60)
			v, err := tpl.Resolve(fn.Env["COMPACT_MAX_DAYS"], nil)
			if err != nil {
				return s, fmt.Errorf("COMPACT_MAX_DAYS: %w", err)
			}
			s.CompactMaxDays, _ = strconv.Atoi(v)
		}
	}
	// ReservedConcurrentExecutions: local/template does not read it, so read it here.
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	var doc struct {
		Resources map[string]struct {
			Properties struct {
				ReservedConcurrentExecutions int `yaml:"ReservedConcurrentExecutions"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return s, fmt.Errorf("read %s: %w", path, err)
	}
	for id, r := range doc.Resources {
		s.Reserved += r.Properties.ReservedConcurrentExecutions
		if id == "ArchiverFunction" {
			s.ArchiverReserved = r.Properties.ReservedConcurrentExecutions
		}
	}
	if s.WriteShards == 0 || s.ArchiverBatch == 0 || s.CompactEvery == 0 || s.CompactMaxDays == 0 || s.ArchiverReserved == 0 {
		return s, fmt.Errorf("template.yaml: settings not found: %+v", s)
	}
	return s, nil
}

package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// The capacity and cost model of issue 15 ("scale on paper"): pure arithmetic over the
// per-event figures costmeasure.go measures on the stand-ins, the workload of the bench's
// data set, the settings of template.yaml and AWS list prices. Nothing here measures or
// reads a file, so every number it prints follows from its inputs (costmodel_test.go).

// Prices are AWS list prices, us-east-1, as known at the writing date (priceDate). Each field
// names its unit; the README and docs/scale.md print them next to every cost.
type Prices struct {
	DDBWriteMillion  float64 // on-demand, per million write request units
	DDBReadMillion   float64 // on-demand, per million read request units
	DDBStorageGB     float64 // per GB-month, Standard table class
	DDBPITRGB        float64 // continuous backups, per GB-month
	S3PutThousand    float64 // PUT, COPY, POST, LIST, per 1,000 requests (Standard)
	S3GetThousand    float64 // GET, SELECT and other reads (HEAD), per 1,000 requests
	S3StandardGB     float64 // per GB-month, first 50 TB
	S3IAGB           float64 // Standard-IA, per GB-month
	LambdaGBSecond   float64 // arm64, per GB-second
	LambdaMillion    float64 // per million requests
	HTTPAPIMillion   float64 // HTTP API, per million requests (first 300 million a month)
	SESThousand      float64 // per 1,000 emails sent
	LogsIngestGB     float64 // CloudWatch Logs ingestion, per GB
	AthenaTB         float64 // per TB scanned, 10 MB minimum per query
	AthenaMinScanned float64 // bytes billed at least per query
}

// priceDate is when the prices below were written down (not looked up: no network).
const priceDate = "2026-12-07"

// listPrices is us-east-1 at priceDate, as known to the author (DynamoDB on-demand after
// its November 2024 price cut).
var listPrices = Prices{
	DDBWriteMillion: 0.625, DDBReadMillion: 0.125, DDBStorageGB: 0.25, DDBPITRGB: 0.20,
	S3PutThousand: 0.005, S3GetThousand: 0.0004, S3StandardGB: 0.023, S3IAGB: 0.0125,
	LambdaGBSecond: 0.0000133334, LambdaMillion: 0.20, HTTPAPIMillion: 1.00, SESThousand: 0.10,
	LogsIngestGB: 0.50, AthenaTB: 5.00, AthenaMinScanned: 10e6,
}

// Action is what one request or invocation of a measured path costs, per action.
type Action struct {
	Name     string
	Function string  // template.yaml's logical id, whose MemorySize bills it
	WCU, RCU float64 // DynamoDB write and read request units (see costmeasure.go for how)
	Calls    float64 // DynamoDB round trips (each adds Assumptions.DDBLatency)
	CPU      float64 // seconds of this process's CPU (user+sys) per action, on this machine
}

// flow is an action and how many times a month it runs.
type flow struct {
	a Action
	n float64
}

// Figures are the measured inputs of the model.
type Figures struct {
	// A contact action: Connect for CONTACT_CONNECTED, Message for the email requests
	// (MESSAGE_SENT, CONTACT_INVITED, CONTACT_SHARED), Comment for every other one.
	Create, Connect, Message, Comment, Ingest100, LogPage, Report, Mail Action

	EventTableWCU  float64 // base-table write units per ingested event (the hot partition's share)
	EventItemBytes float64 // an audit item as DynamoDB sizes it (names + values), average
	GSIsPerEvent   float64 // GSI entries an event writes, average (projection ALL)

	PartRequests     float64 // S3 PUTs per archived part (the part and its pending marker)
	ArchivePartCPU   float64 // archiver CPU seconds per part (a one-event batch: decoding, a Parquet file)
	ArchiveCPU       float64 // archiver CPU seconds per further event
	CompactRequests  S3Requests
	CompactCPU       float64 // compactor CPU seconds per event merged
	StoredBytesEvent float64 // compacted object + rollup bytes per event, kept for good
	PartBytesEvent   float64 // part bytes per event, in the measured batches (deleted by compaction)
	RollupBytesEvent float64 // of StoredBytesEvent, the rollups'
	ReportRequests   S3Requests
	AthenaBytesEvent float64 // Parquet bytes an overview's columns hold per event
}

// S3Requests counts requests by the price class they fall in.
type S3Requests struct{ Put, Get, List, Delete float64 }

// Workload is the bench's data set at 1×, and what its event mix means in requests.
type Workload struct {
	Tenants        int
	EventsPerYear  float64
	HottestPerYear float64   // the busiest tenant's events
	TenantEvents   []float64 // each tenant's events a year (their sum is EventsPerYear)
	// Shares of events by what produced them (sum 1): see workloadFromMix.
	Adds, Connects, Emails, OtherActions, Ingested, Outcomes, LogViews, ReportViews float64
	Cobrowse                                                                        float64 // of Ingested, the co-browsing events (their own, shorter hot retention)
}

// Settings are the knobs of template.yaml the limits depend on.
type Settings struct {
	WriteShards         int     // AuditWriteShards
	ArchiverBatch       int     // the archiver's BatchSize
	ArchiverWindow      float64 // MaximumBatchingWindowInSeconds
	ArchiverReserved    int     // ReservedConcurrentExecutions
	Reserved            int     // every function's ReservedConcurrentExecutions, summed
	StreamReaders       int     // event source mappings on the audit table's stream
	CompactEvery        float64 // seconds between compactor runs
	CompactMaxDays      int     // COMPACT_MAX_DAYS: tenant-days one run compacts
	APIRateLimit        float64 // ApiThrottlingRateLimit
	RetentionDays       float64 // hot retention of most events in DynamoDB
	CobrowseDays        float64 // hot retention of co-browsing events
	ArchiveStandardDays float64 // ArchiveTransitionDays
	Memory              map[string]int
}

// Assumptions are the numbers the model cannot measure here; each is printed.
type Assumptions struct {
	PeakFactor      float64 // busiest second / average second of the year
	DDBLatency      float64 // seconds a DynamoDB call waits, in Lambda, same region
	S3PutLatency    float64
	S3GetLatency    float64
	LogBytesRequest float64 // CloudWatch Logs bytes per invocation (one JSON line and the platform's)
	ContactBytes    float64 // DynamoDB bytes per contact (contact item, data key, channel items)
	MonthsArchived  float64 // age of the archive whose storage is priced
	FullVCPUMemory  float64 // MB at which Lambda gives a whole vCPU (CPU scales with memory)
	PartitionBytes  float64 // bytes a DynamoDB partition holds before it splits
	PartitionWCU    float64 // write units per second per partition (and per partition key)
	PartitionRCU    float64
	S3PutPrefix     float64 // PUT/COPY/POST/DELETE per second per prefix
	AccountLambda   float64 // account concurrency
}

var defaultAssumptions = Assumptions{
	PeakFactor: 4, DDBLatency: 0.004, S3PutLatency: 0.030, S3GetLatency: 0.015,
	LogBytesRequest: 600, ContactBytes: 1500, MonthsArchived: 12, FullVCPUMemory: 1769,
	PartitionBytes: 10e9, PartitionWCU: 1000, PartitionRCU: 3000, S3PutPrefix: 3500, AccountLambda: 1000,
}

// Scale is the model's answer for one multiple of the bench's data set.
type Scale struct {
	K              float64
	Tenants        int
	EventsPerDay   float64
	EventsPerMonth float64
	HottestPeakSec float64 // the hottest tenant's events per second at peak
	Cost           []Cost
	Total          float64
	Limits         []Limit
	// AthenaReport is what one ad-hoc Athena query costs that reads an overview's columns
	// of a year of the hottest tenant (the report functions read the archive themselves;
	// Athena is for analysts), and the bytes it scans. Not in Total.
	AthenaReport, AthenaBytes float64
	// LambdaGBs is each function's GB-seconds a month.
	LambdaGBs map[string]float64
}

// Cost is one line of the monthly bill.
type Cost struct {
	Item    string
	Dollars float64
	How     string // the quantity and its price
}

// Limit is one quota or throughput limit: demand at this scale against it.
type Limit struct {
	Name   string
	Demand float64
	Max    float64
	Unit   string
	Fix    string // the setting that moves it
}

// Use is demand over the limit (1 = met).
func (l Limit) Use() float64 { return l.Demand / l.Max }

const secondsPerMonth = 30 * 86400.0

// cpuShare is the part of a vCPU Lambda gives a function of mem MB.
func (a Assumptions) cpuShare(mem int) float64 { return math.Min(1, float64(mem)/a.FullVCPUMemory) }

// gbSeconds bills one invocation of fn: its CPU spread over its vCPU share, plus the
// waits on AWS calls; Lambda bills by the millisecond.
func (a Assumptions) gbSeconds(s Settings, fn string, cpu, wait float64) float64 {
	mem := s.Memory[fn]
	d := math.Ceil((cpu/a.cpuShare(mem)+wait)*1000-1e-9) / 1000 // 1e-9: 0.006 s stays 6 ms
	return d * float64(mem) / 1024
}

// archiverBatches is how the stream delivers: events per invocation and parts per
// invocation when events arrive at random (Poisson) at rate per second over shards shards.
// A shard's batch closes at the batching window (x events expected in it; a batch has at
// least one, so x/(1-e^-x) on average) or at the batch size. Each batch writes one part per
// tenant-day it holds; a shard carries keys tenant-day partition keys, and a batch of e
// events touches keys·(1-e^(-e/keys)) of them (at least one).
func archiverBatches(rate, shards, keys float64, s Settings) (eventsPerBatch, partsPerBatch float64) {
	x := rate / shards * s.ArchiverWindow
	eventsPerBatch = 1
	if x > 0 {
		eventsPerBatch = x / -math.Expm1(-x)
	}
	eventsPerBatch = math.Min(eventsPerBatch, float64(s.ArchiverBatch))
	partsPerBatch = math.Max(1, keys*-math.Expm1(-eventsPerBatch/keys))
	return eventsPerBatch, partsPerBatch
}

// Model computes the bill and the limits at multiple k of w: k times the events and the
// tenants of the bench's mix, and a hottest tenant k times the bench's busiest (the worst
// case for one partition: a tenant that grows with the platform).
func Model(k float64, w Workload, f Figures, s Settings, a Assumptions, p Prices) Scale {
	sc := Scale{K: k, Tenants: int(math.Round(float64(w.Tenants) * k))}
	perYear := w.EventsPerYear * k
	sc.EventsPerDay = perYear / 365
	perMonth := perYear / 12
	sc.EventsPerMonth = perMonth
	avgRate := perYear / (365 * 86400)
	peakRate := avgRate * a.PeakFactor
	sc.HottestPeakSec = w.HottestPerYear * k / (365 * 86400) * a.PeakFactor

	// Requests a month by path. Ingested events come in batches of 100.
	adds, connects, others := perMonth*w.Adds, perMonth*w.Connects, perMonth*w.OtherActions
	ingests := perMonth * w.Ingested / 100
	mails := perMonth * w.Emails
	pages, reports := perMonth*w.LogViews, perMonth*w.ReportViews
	api := adds + connects + mails + others + ingests + pages + reports

	add := func(item string, dollars float64, how string, args ...any) {
		sc.Cost = append(sc.Cost, Cost{Item: item, Dollars: dollars, How: fmt.Sprintf(how, args...)})
		sc.Total += dollars
	}
	paths := []flow{{f.Create, adds}, {f.Connect, connects}, {f.Message, mails}, {f.Comment, others}, {f.Ingest100, ingests},
		{f.Mail, mails}, {f.LogPage, pages}, {f.Report, reports}}
	var wcu, rcu float64
	for _, x := range paths {
		wcu += x.a.WCU * x.n
		rcu += x.a.RCU * x.n
	}
	add("DynamoDB writes", wcu/1e6*p.DDBWriteMillion, "%s WRU × $%.3f/M", count(wcu), p.DDBWriteMillion)
	add("DynamoDB reads", rcu/1e6*p.DDBReadMillion, "%s RRU × $%.3f/M", count(rcu), p.DDBReadMillion)

	// Hot storage: the retention's worth of events, each in the table and its GSIs.
	held := func(days float64) float64 { return math.Min(days, 365*a.MonthsArchived/12) / 365 }
	retained := perYear * ((1-w.Cobrowse)*held(s.RetentionDays) + w.Cobrowse*held(s.CobrowseDays))
	tableBytes := retained * f.EventItemBytes * (1 + f.GSIsPerEvent)
	contactBytes := perYear * w.Adds * (a.MonthsArchived / 12) * a.ContactBytes
	ddbGB := (tableBytes + contactBytes) / 1e9
	add("DynamoDB storage + PITR", ddbGB*(p.DDBStorageGB+p.DDBPITRGB), "%.1f GB × ($%.2f + $%.2f)/GB-month", ddbGB, p.DDBStorageGB, p.DDBPITRGB)

	// The archive: parts as the stream delivers them, compactions every CompactEvery.
	shards := streamShards(tableBytes, peakRate, f, a)
	keys := math.Max(1, float64(sc.Tenants*s.WriteShards)/shards)
	evPerBatch, partsPerBatch := archiverBatches(avgRate, shards, keys, s)
	batches := perMonth / evPerBatch
	parts := batches * partsPerBatch
	runs := secondsPerMonth / s.CompactEvery
	// A tenant-day is compacted on a run when it got an event since the last run (events
	// arriving at random at the tenant's average rate), and each compaction merges the day
	// so far: on average half of it. k copies of each of the bench's tenants.
	var perRun, mergedPerRun float64
	for _, te := range w.TenantEvents {
		hit := 1 - math.Exp(-te/(365*86400)*s.CompactEvery)
		perRun += k * hit
		mergedPerRun += k * hit * te / 365 / 2
	}
	compactions, merged := runs*perRun, runs*mergedPerRun
	puts := parts*f.PartRequests + compactions*(f.CompactRequests.Put+f.CompactRequests.List) + reports*(f.ReportRequests.Put+f.ReportRequests.List)
	gets := compactions*f.CompactRequests.Get + reports*f.ReportRequests.Get
	add("S3 requests", puts/1000*p.S3PutThousand+gets/1000*p.S3GetThousand, "%s PUT/LIST × $%.3f/k + %s GET × $%.4f/k", count(puts), p.S3PutThousand, count(gets), p.S3GetThousand)
	archived := perYear * a.MonthsArchived / 12 * f.StoredBytesEvent / 1e9
	standard := math.Min(1, s.ArchiveStandardDays/(30*a.MonthsArchived))
	add("S3 storage", archived*(standard*p.S3StandardGB+(1-standard)*p.S3IAGB), "%.1f GB after %.0f months, %.0f%% Standard $%.3f, rest IA $%.4f /GB-month", archived, a.MonthsArchived, standard*100, p.S3StandardGB, p.S3IAGB)

	// Lambda: every API request, stream batch, email and compaction.
	var gbs float64
	sc.LambdaGBs = map[string]float64{}
	for _, x := range paths {
		if x.a.Function == "" {
			continue
		}
		g := x.n * a.gbSeconds(s, x.a.Function, x.a.CPU, x.a.Calls*a.DDBLatency)
		sc.LambdaGBs[x.a.Function] += g
		gbs += g
	}
	archiveGBs := batches * a.gbSeconds(s, "ArchiverFunction", f.ArchivePartCPU*partsPerBatch+f.ArchiveCPU*evPerBatch, partsPerBatch*f.PartRequests*a.S3PutLatency)
	compactGBs := a.gbSeconds(s, "CompactorFunction", f.CompactCPU*merged, compactions*(f.CompactRequests.Get*a.S3GetLatency+2*a.S3PutLatency))
	gbs += archiveGBs + compactGBs
	sc.LambdaGBs["ArchiverFunction"] += archiveGBs
	sc.LambdaGBs["CompactorFunction"] += compactGBs
	invocations := api + batches + mails + runs
	add("Lambda", gbs*p.LambdaGBSecond+invocations/1e6*p.LambdaMillion, "%s GB-s × $%.10f + %s invocations × $%.2f/M", count(gbs), p.LambdaGBSecond, count(invocations), p.LambdaMillion)
	add("API Gateway (HTTP API)", api/1e6*p.HTTPAPIMillion, "%s requests × $%.2f/M", count(api), p.HTTPAPIMillion)
	add("SES", mails/1000*p.SESThousand, "%s emails × $%.2f/k", count(mails), p.SESThousand)
	logGB := invocations * a.LogBytesRequest / 1e9
	add("CloudWatch Logs", logGB*p.LogsIngestGB, "%.1f GB × $%.2f/GB", logGB, p.LogsIngestGB)

	sc.AthenaBytes = math.Max(p.AthenaMinScanned, w.HottestPerYear*k*f.AthenaBytesEvent)
	sc.AthenaReport = sc.AthenaBytes / 1e12 * p.AthenaTB

	// Limits, each as demand at peak against what stops it.
	hotWCU := sc.HottestPeakSec * f.EventTableWCU
	sc.Limits = append(sc.Limits,
		Limit{"DynamoDB partition writes, hottest tenant-day key", hotWCU / float64(s.WriteShards), a.PartitionWCU, "WCU/s",
			"AuditWriteShards (each shard is a partition key)"},
		Limit{"DynamoDB partition reads, hottest tenant's log pages (all on one partition)", hotLogRCU(sc, w, f), a.PartitionRCU, "RCU/s", "AuditWriteShards spreads a page's reads over shards"},
		Limit{"readers per audit stream shard", float64(s.StreamReaders), 2, "readers", "a third consumer needs fan-out (Kinesis Data Streams for DynamoDB)"},
		Limit{"archiver concurrency at peak", archiverConcurrency(peakRate, shards, keys, f, s, a), float64(s.ArchiverReserved), "executions",
			"ArchiverFunction ReservedConcurrentExecutions"},
		Limit{"S3 PUTs on pending/ (one marker per part)", peakParts(peakRate, shards, keys, s), a.S3PutPrefix, "PUT/s", "MaximumBatchingWindowInSeconds (fewer, larger parts)"},
		Limit{"compactor run within its 5-minute slot", compactGBs / (runs * float64(s.Memory["CompactorFunction"]) / 1024), s.CompactEvery, "s/run",
			"CompactorFunction MemorySize, or a slower rate(...)"},
		Limit{"tenant-days with new parts per compactor run", perRun, float64(s.CompactMaxDays), "tenant-days", "COMPACT_MAX_DAYS"},
		Limit{"HTTP API requests at peak", api / secondsPerMonth * a.PeakFactor, s.APIRateLimit, "req/s", "ApiThrottlingRateLimit"},
		Limit{"Lambda concurrency at peak (account)", lambdaConcurrency(paths, s, a), a.AccountLambda - float64(s.Reserved), "executions", "a Service Quotas increase"},
	)
	return sc
}

// streamShards estimates the audit stream's shards: one per table partition, partitions
// split by size and by write throughput.
func streamShards(tableBytes, peakRate float64, f Figures, a Assumptions) float64 {
	bySize := math.Ceil(tableBytes / (1 + f.GSIsPerEvent) / a.PartitionBytes)
	byWrites := math.Ceil(peakRate * f.EventTableWCU / a.PartitionWCU)
	return math.Max(1, math.Max(bySize, byWrites))
}

// archiverConcurrency is the archiver's executions in flight at peak: batches a second
// times a batch's duration (its CPU on its vCPU share, then its parts' PUTs one after the
// other), and never more than one a shard (ParallelizationFactor 1).
func archiverConcurrency(rate, shards, keys float64, f Figures, s Settings, a Assumptions) float64 {
	ev, parts := archiverBatches(rate, shards, keys, s)
	d := (f.ArchivePartCPU*parts+f.ArchiveCPU*ev)/a.cpuShare(s.Memory["ArchiverFunction"]) + parts*f.PartRequests*a.S3PutLatency
	return math.Min(shards, rate/ev*d)
}

// peakParts is parts (so pending markers) written per second at peak rate.
func peakParts(rate, shards, keys float64, s Settings) float64 {
	ev, parts := archiverBatches(rate, shards, keys, s)
	return rate / ev * parts
}

// hotLogRCU is the read units per second on one partition when the hottest tenant's admins
// read its log at peak: its share of log views, as if every page read one partition
// (an upper bound: a page reads its days' write shards).
func hotLogRCU(sc Scale, w Workload, f Figures) float64 {
	pagesPerSec := sc.HottestPeakSec * w.LogViews
	return pagesPerSec * f.LogPage.RCU
}

// lambdaConcurrency is the executions in flight at peak: Little's law over the API paths.
func lambdaConcurrency(paths []flow, s Settings, a Assumptions) float64 {
	var c float64
	for _, x := range paths {
		if x.a.Function == "" || x.a.Function == "MailerFunction" {
			continue
		}
		mem := s.Memory[x.a.Function]
		d := x.a.CPU/a.cpuShare(mem) + x.a.Calls*a.DDBLatency
		c += x.n / secondsPerMonth * a.PeakFactor * d
	}
	return c
}

// count prints a large quantity compactly.
func count(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.2fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// constantLimit is the limit whose demand does not grow with the data: it is met or not at
// any scale, so it has no crossing.
const constantLimit = "readers per audit stream shard"

// Crossing is where a limit is first met: the smallest multiple of the bench's data set, on
// a grid of 100 steps a decade from 1× to 100,000×, at which its demand reaches its maximum.
type Crossing struct {
	Limit Limit
	K     float64 // +Inf when not met below 100,000×
}

// crossings returns every growing limit's crossing, the first met first.
func crossings(w Workload, f Figures, s Settings, a Assumptions, p Prices) []Crossing {
	base := Model(1, w, f, s, a, p)
	var out []Crossing
	for i, l := range base.Limits {
		if l.Name == constantLimit {
			continue
		}
		c := Crossing{Limit: l, K: math.Inf(1)}
		for step := 0; step <= 500; step++ {
			k := math.Pow(10, float64(step)/100)
			if m := Model(k, w, f, s, a, p).Limits[i]; m.Use() >= 1 {
				c.K, c.Limit = k, m
				break
			}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// printCost writes the model's table: one column a scale.
func printCost(w io.Writer, scales []Scale) {
	fmt.Fprint(w, "| |")
	for _, s := range scales {
		fmt.Fprintf(w, " %s× |", num(s.K))
	}
	fmt.Fprint(w, "\n|---|")
	fmt.Fprint(w, strings.Repeat("---:|", len(scales)))
	fmt.Fprintln(w)
	line := func(name string, f func(Scale) string) {
		fmt.Fprintf(w, "| %s |", name)
		for _, s := range scales {
			fmt.Fprintf(w, " %s |", f(s))
		}
		fmt.Fprintln(w)
	}
	line("tenants", func(s Scale) string { return num(float64(s.Tenants)) })
	line("events a day", func(s Scale) string { return count(s.EventsPerDay) })
	line("hottest tenant, events/s at peak", func(s Scale) string { return fmt.Sprintf("%.1f", s.HottestPeakSec) })
	for i := range scales[0].Cost {
		line(scales[0].Cost[i].Item+" $/month", func(s Scale) string { return dollars(s.Cost[i].Dollars) })
	}
	line("**total $/month**", func(s Scale) string { return "**" + dollars(s.Total) + "**" })
	line("$ per million events", func(s Scale) string { return dollars(s.Total / s.EventsPerMonth * 1e6) })
	line("Athena, one query over a year of the hottest tenant's overview columns (not in the total)", func(s Scale) string {
		return fmt.Sprintf("%s (%.2f GB)", dollars(s.AthenaReport), s.AthenaBytes/1e9)
	})
	fns := make([]string, 0, len(scales[0].LambdaGBs))
	for fn := range scales[0].LambdaGBs {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	for _, fn := range fns {
		line("Lambda GB-s per 1,000 events: "+fn, func(s Scale) string { return fmt.Sprintf("%.3f", s.LambdaGBs[fn]/s.EventsPerMonth*1000) })
	}
	for i := range scales[0].Limits {
		l := scales[0].Limits[i]
		line(fmt.Sprintf("%s (max %s %s)", l.Name, num(l.Max), l.Unit), func(s Scale) string {
			u := s.Limits[i].Use()
			if u >= 1 {
				return fmt.Sprintf("**%.0f%%**", u*100)
			}
			return fmt.Sprintf("%.1f%%", u*100)
		})
	}
}

// num prints a number without needless decimals.
func num(x float64) string {
	if x >= 100 || x == math.Trunc(x) {
		return commas(math.Round(x))
	}
	return fmt.Sprintf("%.1f", x)
}

func commas(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func dollars(x float64) string {
	switch {
	case x >= 100:
		return "$" + commas(x)
	case x >= 1:
		return fmt.Sprintf("$%.2f", x)
	}
	return fmt.Sprintf("$%.3f", x)
}

// workloadFromMix turns the generator's event mix (per mille by type) into the shares of
// what produced each event: a new contact, a connected channel, an email request (the
// action, and the email the mailer sends for it), another contact action, an ingest batch,
// an email outcome (the mailer writes it), an audit log read or a report read (each read
// records itself as an access event).
func workloadFromMix(mix map[string]int, categoryOf func(string) string) Workload {
	var w Workload
	total := 0
	for _, n := range mix {
		total += n
	}
	for t, n := range mix {
		share := float64(n) / float64(total)
		switch {
		case t == "CONTACT_ADDED":
			w.Adds += share
		case t == "CONTACT_CONNECTED":
			w.Connects += share
		case t == "CONTACT_INVITED" || t == "MESSAGE_SENT" || t == "CONTACT_SHARED":
			w.Emails += share
		case t == "EMAIL_DELIVERED" || t == "EMAIL_FAILED":
			w.Outcomes += share
		case t == "AUDIT_LOG_VIEWED":
			w.LogViews += share
		case t == "REPORT_VIEWED" || t == "REPORT_EXPORTED":
			w.ReportViews += share
		case categoryOf(t) == "contact":
			w.OtherActions += share
		default:
			w.Ingested += share
			if categoryOf(t) == "cobrowse" {
				w.Cobrowse += share
			}
		}
	}
	return w
}

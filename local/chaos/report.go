package chaos

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report prints the table of `make chaos`: per scenario the faults injected, the requests,
// the events written and archived, what was lost and duplicated, the emails, the 5xx outside
// faults; then the faults by kind over every scenario, and each finding in full.
func Report(w io.Writer, outcomes []*Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tfaults\trequests\tevents\tarchived\tlost\tduplicated\treconcile\temails/asked\tmailed twice\t(documented)\tunmailed\tmail replays\texports swept\t5xx outside faults\ttime\tverdict\t")
	total := &Outcome{Faults: map[Kind]int{}}
	for _, o := range outcomes {
		faults := 0
		for k, n := range o.Faults {
			faults += n
			total.Faults[k] += n
		}
		verdict := "ok"
		if !o.OK() {
			verdict = "FAILED"
		}
		rec := "agrees"
		if len(o.Differences) > 0 {
			rec = fmt.Sprintf("%d differences", len(o.Differences))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f s\t%s\t\n", o.Scenario, faults, o.Requests, o.Events, o.Archived,
			len(o.Lost), len(o.Duplicated), rec, o.Emails, o.MailRequests, len(o.Twice), len(o.Exception), o.Unmailed, o.MailReplays, o.Swept, len(o.Outside5xx), o.Drained.Seconds(), verdict)
		total.Requests += o.Requests
		total.Events += o.Events
		total.Archived += o.Archived
		total.Emails += o.Emails
		total.MailRequests += o.MailRequests
		total.Lost = append(total.Lost, o.Lost...)
		total.Duplicated = append(total.Duplicated, o.Duplicated...)
		total.Twice = append(total.Twice, o.Twice...)
		total.Exception = append(total.Exception, o.Exception...)
		total.Unmailed += o.Unmailed
		total.MailReplays += o.MailReplays
		total.Swept += o.Swept
		total.Outside5xx = append(total.Outside5xx, o.Outside5xx...)
		total.Drained += o.Drained
	}
	faults := 0
	for _, n := range total.Faults {
		faults += n
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%d\t%d\t\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f s\t\t\n", faults, total.Requests, total.Events, total.Archived,
		len(total.Lost), len(total.Duplicated), total.Emails, total.MailRequests, len(total.Twice), len(total.Exception), total.Unmailed, total.MailReplays, total.Swept, len(total.Outside5xx), total.Drained.Seconds())
	tw.Flush()

	killed := map[string]int{}
	for _, o := range outcomes {
		for f, n := range o.Killed {
			killed[f] += n
		}
	}
	if len(killed) > 0 {
		names := make([]string, 0, len(killed))
		for f := range killed {
			names = append(names, f)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, f := range names {
			parts[i] = fmt.Sprintf("%s %d", f, killed[f])
		}
		fmt.Fprintf(w, "\nprocesses killed, by function: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w, "\nfaults injected, by kind:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range Kinds {
		if n := total.Faults[k]; n > 0 {
			fmt.Fprintf(tw, "  %s\t%d\n", k, n)
		}
	}
	tw.Flush()

	for _, o := range outcomes {
		var lines []string
		add := func(what string, list []string) {
			for _, l := range list {
				lines = append(lines, what+": "+l)
			}
		}
		add("lost", o.Lost)
		add("duplicated", o.Duplicated)
		add("reconcile", o.Differences)
		add("mailed twice", o.Twice)
		add("documented exception (mailer killed after SES accepted)", o.Exception)
		add("5xx outside faults", o.Outside5xx)
		if o.Unmailed > 0 {
			lines = append(lines, fmt.Sprintf("unmailed: %d mail requests without EMAIL_DELIVERED or EMAIL_FAILED after the drain (mailer killed mid-invocation %d times, MailReplayFunction invoked %d times)",
				o.Unmailed, o.MailerMidKills, o.MailReplays))
		}
		if o.ExportsPending > 0 {
			lines = append(lines, fmt.Sprintf("exports: %d neither done nor failed", o.ExportsPending))
		}
		add("note", o.Notes)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (tenant %s):\n  %s\n", o.Scenario, o.Tenant, strings.Join(lines, "\n  "))
	}
	statuses := map[int]int{}
	for _, o := range outcomes {
		for s, n := range o.Statuses {
			statuses[s] += n
		}
	}
	codes := make([]int, 0, len(statuses))
	for s := range statuses {
		codes = append(codes, s)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, s := range codes {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, statuses[s]))
	}
	fmt.Fprintf(w, "\nAPI answers (retries included; 5xx and no answer while faults were on): %s\n", strings.Join(parts, ", "))
}

package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Expr is a parsed schedule expression.
type Expr interface {
	// Next returns the first firing time strictly after t.
	Next(t time.Time) time.Time
}

// Parse reads an EventBridge schedule expression: rate(N minute|minutes|hour|hours|day|days)
// or cron(minutes hours day-of-month month day-of-week year) with *, ?, lists, ranges,
// steps and month/day names (L, W and # are not supported locally). Cron times are UTC.
func Parse(s string) (Expr, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		return parseRate(s[5 : len(s)-1])
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		return parseCron(s[5 : len(s)-1])
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", s)
}

// Rate fires every Every.
type Rate struct{ Every time.Duration }

// Next returns t + Every.
func (r Rate) Next(t time.Time) time.Time { return t.Add(r.Every) }

func parseRate(s string) (Expr, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return nil, fmt.Errorf("rate(%s): want rate(N unit)", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate(%s): %q is not a positive integer", s, f[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := f[1]
	if n != 1 {
		// EventBridge wants the plural for N > 1 and the singular for 1.
		if !strings.HasSuffix(unit, "s") {
			return nil, fmt.Errorf("rate(%s): use the plural unit (%ss) for a value above 1", s, unit)
		}
		unit = strings.TrimSuffix(unit, "s")
	} else if strings.HasSuffix(unit, "s") {
		return nil, fmt.Errorf("rate(%s): use the singular unit (%s) for 1", s, strings.TrimSuffix(unit, "s"))
	}
	d, ok := units[unit]
	if !ok {
		return nil, fmt.Errorf("rate(%s): unit must be minute(s), hour(s) or day(s)", s)
	}
	return Rate{Every: time.Duration(n) * d}, nil
}

// Cron is a parsed six-field EventBridge cron expression, in UTC.
type Cron struct {
	minute, hour, dom, month, dow, year set
	domAny, dowAny                      bool // the field was ? or *
}

type set map[int]bool

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(s string) (Expr, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron(%s): want 6 fields (minutes hours day-of-month month day-of-week year)", s)
	}
	var c Cron
	var err error
	specs := []struct {
		dst    *set
		text   string
		lo, hi int
		names  map[string]int
	}{
		{&c.minute, f[0], 0, 59, nil},
		{&c.hour, f[1], 0, 23, nil},
		{&c.dom, f[2], 1, 31, nil},
		{&c.month, f[3], 1, 12, monthNames},
		{&c.dow, f[4], 1, 7, dayNames},
		{&c.year, f[5], 1970, 2199, nil},
	}
	for _, sp := range specs {
		if *sp.dst, err = parseField(sp.text, sp.lo, sp.hi, sp.names); err != nil {
			return nil, fmt.Errorf("cron(%s): %w", s, err)
		}
	}
	c.domAny = f[2] == "?" || f[2] == "*"
	c.dowAny = f[4] == "?" || f[4] == "*"
	if f[2] != "?" && f[4] != "?" {
		return nil, fmt.Errorf("cron(%s): one of day-of-month and day-of-week must be ?", s)
	}
	return c, nil
}

func parseField(text string, lo, hi int, names map[string]int) (set, error) {
	out := set{}
	for _, part := range strings.Split(text, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad step", part)
			}
			step, part = n, base
		}
		from, to := lo, hi
		switch {
		case part == "*" || part == "?":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			var err error
			if from, err = value(a, names); err != nil {
				return nil, err
			}
			if to, err = value(b, names); err != nil {
				return nil, err
			}
		default:
			v, err := value(part, names)
			if err != nil {
				return nil, err
			}
			from = v
			if step == 1 {
				to = v
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%q: out of range %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			out[v] = true
		}
	}
	return out, nil
}

func value(s string, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (L, W and # are not supported by the local scheduler)", s)
	}
	return v, nil
}

// Next returns the first minute after t that matches, or the zero time if none does
// within the year field's range.
func (c Cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= 2199 {
		if !c.year[t.Year()] {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.month[int(t.Month())] {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.hour[t.Hour()] {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if !c.minute[t.Minute()] {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

func (c Cron) dayMatches(t time.Time) bool {
	dom := c.dom[t.Day()]
	dow := c.dow[int(t.Weekday())+1]
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	default:
		return dom
	}
}

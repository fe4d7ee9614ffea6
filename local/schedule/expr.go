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

// Parse reads an EventBridge rate expression: rate(N minute|minutes|hour|hours|day|days).
// template.yaml schedules only with rate(...); a cron(...) is refused rather than run by a
// parser no test holds to EventBridge's cron (its year field, its day-of-week numbering).
func Parse(s string) (Expr, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		return parseRate(s[5 : len(s)-1])
	case strings.HasPrefix(s, "cron("):
		return nil, fmt.Errorf("schedule %q: the local scheduler runs rate(...) expressions only; template.yaml uses no cron(...)", s)
	}
	return nil, fmt.Errorf("schedule %q: want rate(...)", s)
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

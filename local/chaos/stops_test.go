package chaos

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStopsCountRestartsAsKills: an email sent twice is the documented exception when the
// mailer's process stopped between the two sends, killed on its own or with the whole stack
// (found by make chaos SEED=11: a restart struck a mailer after SES accepted its email, the
// mail replay sent it again, and only the kills of the mailer were looked at).
func TestStopsCountRestartsAsKills(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	in := New(1)
	in.kills["MailerFunction"] = []time.Time{at(10), at(50)}
	in.kills["ArchiverFunction"] = []time.Time{at(20)}
	in.Restarted(at(30))

	if diff := cmp.Diff([]time.Time{at(10), at(30), at(50)}, in.Stops("MailerFunction")); diff != "" {
		t.Errorf("mailer stops (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Time{at(10), at(50)}, in.Kills("MailerFunction")); diff != "" {
		t.Errorf("mailer kills, restarts apart (-want +got):\n%s", diff)
	}

	cases := []struct {
		name      string
		from, to  int
		exception bool
	}{
		{"a restart between the two sends", 25, 35, true},
		{"a kill between them", 5, 15, true},
		{"the archiver's kill is not the mailer's", 15, 25, false},
		{"nothing stopped the mailer between them", 31, 49, false},
	}
	// A kill is stamped as it is dealt; SES stamps the email the dying mailer had already sent
	// a moment later. That kill still explains the second email, one a second earlier does not.
	if !killedBetween(in.Stops("MailerFunction"), at(10).Add(3*time.Millisecond), at(60)) {
		t.Error("a kill stamped 3 ms before SES stamped the first email does not excuse the second")
	}
	if killedBetween(in.Stops("MailerFunction"), at(11), at(29)) {
		t.Error("a kill a second before the first email excuses the second")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := killedBetween(in.Stops("MailerFunction"), at(tc.from), at(tc.to)); got != tc.exception {
				t.Errorf("killedBetween(%d s, %d s) = %v, want %v", tc.from, tc.to, got, tc.exception)
			}
		})
	}
}

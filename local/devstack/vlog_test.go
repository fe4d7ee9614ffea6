package devstack

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/shared/vlog"
)

// TestStackSequencesWithin30Seconds: make run's bound for the verifiable log. An event a
// function writes is, within 30 s, in a checkpoint that verifies with the key make run
// prints; the sequencer runs on its template schedule (scaled locally: localScheduleScale).
func TestStackSequencesWithin30Seconds(t *testing.T) {
	s := StartTest(t, Options{Functions: []string{"CreateContactFunction", "ArchiverFunction", "SequenceLogFunction"}, ScheduleScale: 1})
	if s.LogVerifierKey == "" {
		t.Fatal("the stack has no log verifier key")
	}
	if st, body := s.Client(t, devauth.Claims{Tenant: "acme", User: "u-1", Roles: []string{"agent"}}).Do("POST", "/v1/contacts", "application/json", `{"name":"Ada"}`); st != http.StatusCreated {
		t.Fatalf("POST /v1/contacts: %d %s", st, body)
	}
	written := time.Now()
	key, _ := vlog.CheckpointKey("acme")
	for {
		out, err := s.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.Buckets["ArchiveBucket"]), Key: aws.String(key)})
		if err == nil {
			var b []byte
			b, err = readAll(out)
			if err == nil {
				c, err := vlog.OpenCheckpoint(b, s.LogVerifierKey)
				if err != nil {
					t.Fatal(err)
				}
				if c.Size == 1 && c.Origin == "contrail/acme" {
					t.Logf("in a signed checkpoint %.1f s after the write", time.Since(written).Seconds())
					return
				}
				t.Fatalf("checkpoint %+v, want acme's first event", c)
			}
		}
		if time.Since(written) > 30*time.Second {
			t.Fatalf("no signed checkpoint of acme's log 30 s after the write: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func readAll(out *s3.GetObjectOutput) ([]byte, error) {
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

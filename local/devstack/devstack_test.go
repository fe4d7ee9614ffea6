package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/emulator"
)

// children returns the pids of this process's child processes.
func children(t *testing.T) []int {
	t.Helper()
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(b[bytes.LastIndexByte(b, ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == self {
				kids = append(kids, pid)
			}
		}
	}
	return kids
}

type response struct {
	Status int
	Body   string
}

func get(t *testing.T, url, token string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

// wantServing checks that s serves HealthFunction and GetContactFunction: health is ok, and
// an agent's GET of an unknown contact is the function's 404, read from the table. It
// returns the agent's token.
func wantServing(t *testing.T, s *Stack) string {
	t.Helper()
	if d := cmp.Diff(response{200, `{"status":"ok"}`}, get(t, s.URL+"/v1/health", "")); d != "" {
		t.Errorf("health (-want +got):\n%s", d)
	}
	tok, err := s.Token(devauth.Claims{Tenant: "acme", Roles: []string{"agent"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, s.URL+"/v1/contacts/01JD0000000000000000000000", tok); got.Status != 404 || !strings.Contains(got.Body, `"code":"contact_not_found"`) {
		t.Errorf("GET unknown contact = %+v, want 404 contact_not_found from the function", got)
	}
	return tok
}

func start(t *testing.T, o Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// TestStackStartsServesAndStopsClean starts the whole stack (DynamoDB Local, S3, the SES
// emulator, the health function) on free ports in a temporary state folder, calls the API,
// stops it, checks nothing is left running, and starts it again over the same data.
func TestStackStartsServesAndStopsClean(t *testing.T) {
	state := t.TempDir()
	baseline := map[int]bool{} // children started by other tests (stacktest's stand-ins)
	for _, pid := range children(t) {
		baseline[pid] = true
	}
	ours := func() []int {
		var kids []int
		for _, pid := range children(t) {
			if !baseline[pid] {
				kids = append(kids, pid)
			}
		}
		return kids
	}
	var logs bytes.Buffer
	o := Options{StateDir: state, Functions: []string{"HealthFunction", "GetContactFunction"}, Out: &logs, NoSchedules: true}
	s := start(t, o)

	tok := wantServing(t, s)
	if d := cmp.Diff(response{401, `{"error":{"code":"unauthorized","message":"Send a bearer token in the Authorization header (make token ROLE=agent TENANT=demo prints one)."}}`}, get(t, s.URL+"/v1/contacts/x", "")); d != "" {
		t.Errorf("no token (-want +got):\n%s", d)
	}
	if got := get(t, s.URL+"/v1/nowhere", tok); got.Status != 404 || !strings.Contains(got.Body, `"code":"not_found"`) {
		t.Errorf("unknown route = %+v, want 404 not_found", got)
	}
	// The console's configuration for local sign-in, and the development token endpoint it
	// signs in with; the token it gives is one the gateway accepts.
	if d := cmp.Diff(response{200, `{"auth":"local","apiUrl":"","devTokenUrl":"/local/dev-token"}`}, get(t, s.URL+"/console/config.json", "")); d != "" {
		t.Errorf("console config (-want +got):\n%s", d)
	}
	resp, err := http.Post(s.URL+DevTokenPath, "application/json", strings.NewReader(`{"tenant":"acme","role":"agent","name":"Ayu Agent"}`))
	if err != nil {
		t.Fatal(err)
	}
	var dev struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&dev); err != nil || resp.StatusCode != 200 {
		t.Fatalf("dev token: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if got := get(t, s.URL+"/v1/contacts/01JD0000000000000000000000", dev.Token); got.Status != 404 || !strings.Contains(got.Body, `"code":"contact_not_found"`) {
		t.Errorf("GET unknown contact with the console's token = %+v, want 404 contact_not_found", got)
	}
	// A route of a function the stack was not asked to run is not served.
	if got := get(t, s.URL+"/v1/contacts", tok); got.Status != 404 {
		t.Errorf("GET /v1/contacts (function not started) = %+v, want 404", got)
	}

	// Tables, stream, TTL and the bucket come from template.yaml.
	ctx := context.Background()
	for _, id := range []string{"ContactsTable", "AuditTable", "JobsTable"} {
		if s.Tables[id] != "contrail-"+id {
			t.Errorf("table %s is named %q", id, s.Tables[id])
		}
	}
	desc, err := s.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("contrail-AuditTable")})
	if err != nil {
		t.Fatal(err)
	}
	var indexes []string
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName))
	}
	sort.Strings(indexes)
	if d := cmp.Diff([]string{"ByActor", "ByCategory", "ByContact", "BySession", "ByType"}, indexes); d != "" {
		t.Errorf("audit table indexes (-want +got):\n%s", d)
	}
	if desc.Table.StreamSpecification == nil || !aws.ToBool(desc.Table.StreamSpecification.StreamEnabled) {
		t.Errorf("audit table has no stream")
	}
	ttl, err := s.DynamoDB().DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("contrail-AuditTable")})
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Errorf("audit table TTL = %+v", ttl.TimeToLiveDescription)
	}

	// Data written now must be there after a restart; S3 objects are plain files.
	_, err = s.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("contrail-ContactsTable"),
		Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "restart-check"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("PAR1 not really parquet")
	_, err = s.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("contrail-archive"), Key: aws.String("events/tenant=acme/date=2026-11-30/part-1.parquet"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(state, "s3", "contrail-archive", "events", "tenant=acme", "date=2026-11-30", "part-1.parquet"))
	if err != nil {
		t.Fatalf("object is not a plain file: %v", err)
	}
	if !bytes.Equal(onDisk, body) {
		t.Errorf("file holds %q, want %q", onDisk, body)
	}

	before := ours()
	if len(before) < 3 { // DynamoDB Local, the SES emulator, two function processes
		t.Errorf("children while running: %v, want the emulators and the functions", before)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if left := ours(); len(left) != 0 {
		t.Fatalf("processes left after Stop: %v", left)
	}
	if resp, err := http.Get(s.URL + "/v1/health"); err == nil {
		resp.Body.Close()
		t.Errorf("API still answers after Stop")
	}

	s2 := start(t, o)
	item, err := s2.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("contrail-ContactsTable"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "restart-check"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if item.Item == nil {
		t.Errorf("the item written before the restart is gone")
	}
	obj, err := s2.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("contrail-archive"), Key: aws.String("events/tenant=acme/date=2026-11-30/part-1.parquet")})
	if err != nil {
		t.Fatalf("object after restart: %v", err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("object after restart = %q, want %q", got, body)
	}
	if d := cmp.Diff(response{200, `{"status":"ok"}`}, get(t, s2.URL+"/v1/health", "")); d != "" {
		t.Errorf("health after restart (-want +got):\n%s", d)
	}
	if err := s2.Stop(); err != nil {
		t.Fatal(err)
	}
	if left := ours(); len(left) != 0 {
		t.Fatalf("processes left after the second Stop: %v", left)
	}
	if t.Failed() {
		t.Logf("stack output:\n%s", logs.String())
	}
}

// TestAPIAnswers503WhileStarting: the API's port answers from the start, 503 "starting" on
// every route, until the stack is ready; then the functions answer.
func TestAPIAnswers503WhileStarting(t *testing.T) {
	port, err := emulator.PickPort()
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	var logs, progress lockedBuffer
	type started struct {
		s   *Stack
		err error
	}
	done := make(chan started, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		s, err := Start(ctx, Options{StateDir: t.TempDir(), Port: port, Functions: []string{"HealthFunction"}, Out: &logs, Progress: &progress, NoSchedules: true})
		done <- started{s, err}
	}()
	client := &http.Client{Timeout: time.Second}
	var first *response
	for first == nil {
		select {
		case st := <-done:
			if st.s != nil {
				st.s.Stop()
			}
			t.Fatalf("Start returned (%v) before the API answered anything; output:\n%s", st.err, logs.String())
		default:
		}
		resp, err := client.Get(url + "/v1/health")
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		first = &response{resp.StatusCode, string(b)}
	}
	st := <-done
	if st.err != nil {
		t.Fatalf("start: %v\n%s", st.err, logs.String())
	}
	defer st.s.Stop()
	if first.Status != 503 || !strings.HasPrefix(first.Body, `{"error":{"code":"starting","message":"The local stack is starting (`) {
		t.Errorf("first answer while starting = %+v, want 503 starting", *first)
	}
	if d := cmp.Diff(response{200, `{"status":"ok"}`}, get(t, url+"/v1/health", "")); d != "" {
		t.Errorf("health once started (-want +got):\n%s", d)
	}
	var banner bytes.Buffer
	if err := st.s.printBanner(&banner); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  DynamoDB       " + st.s.DynamoDBEndpoint + "   data in ",
		"(DynamoDB Local itself listens on port " + strings.TrimPrefix(st.s.dynamoDBLocal, "http://127.0.0.1:") + " of every interface",
		"SigV4-signed requests only",
		"  Credentials    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	p := progress.String()
	for _, want := range []string{"Starting Contrail locally. Until it is ready, " + url + " answers 503", "building 1 functions", "tables and bucket ready", "Ready, "} {
		if !strings.Contains(p, want) {
			t.Errorf("progress lacks %q:\n%s", want, p)
		}
	}
}

// TestSecondStackOnOneStateFolderRefuses: a second make run on a checkout must not start a
// second DynamoDB Local on the same data; it refuses at once and names the holder.
func TestSecondStackOnOneStateFolderRefuses(t *testing.T) {
	state := t.TempDir()
	first := start(t, Options{StateDir: state, Functions: []string{"HealthFunction"}, Out: io.Discard, NoSchedules: true})

	began := time.Now()
	second, err := Start(context.Background(), Options{StateDir: state, Functions: []string{"HealthFunction"}, Out: io.Discard, NoSchedules: true})
	if err == nil {
		second.Stop()
		t.Fatal("a second stack started on the same state folder")
	}
	want := "a local stack is already running on " + state + ": process " + strconv.Itoa(os.Getpid()) + " holds " + filepath.Join(state, LockFile)
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start with %q", err, want)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("refused after %s, want at once", d)
	}
	if d := cmp.Diff(response{200, `{"status":"ok"}`}, get(t, first.URL+"/v1/health", "")); d != "" {
		t.Errorf("the first stack after the refusal (-want +got):\n%s", d)
	}
	// Stopping releases the lock: the folder can be used again.
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	start(t, Options{StateDir: state, Functions: []string{"HealthFunction"}, Out: io.Discard, NoSchedules: true})
}

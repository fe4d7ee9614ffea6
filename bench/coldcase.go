package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
)

// lambdaFlags are the Makefile's LAMBDA_FLAGS.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

const (
	maxBootstrapBytes = 20 << 20
	maxInit           = 30 * time.Millisecond
)

// smokeFunctions are the functions whose start the smoke run times.
var smokeFunctions = []string{"HealthFunction", "CreateContactFunction", "ContactOverviewFunction"}

func caseCold(ctx context.Context, b *bencher) error {
	tpl, err := template.Load(filepath.Join(b.o.root, template.FileName))
	if err != nil {
		return err
	}
	fns := tpl.Functions()
	if b.o.smoke {
		var keep []template.Function
		for _, f := range fns {
			for _, s := range smokeFunctions {
				if f.LogicalID == s {
					keep = append(keep, f)
				}
			}
		}
		fns = keep
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].LogicalID < fns[j].LogicalID })
	binDir := filepath.Join(b.o.root, ".local", "bench", "bin")

	// Sizes: the linux/arm64 bootstrap `make build` made, and the floor built the same way.
	if !b.o.smoke {
		floor := filepath.Join(binDir, "arm64", "floor")
		if err := goBuild(ctx, filepath.Join(b.o.root, "bench"), "arm64", lambdaFlags, floor, "./floor"); err != nil {
			return err
		}
		fi, err := os.Stat(floor)
		if err != nil {
			return err
		}
		type size struct {
			id string
			n  int64
		}
		var sizes []size
		for _, f := range fns {
			p := filepath.Join(b.o.root, ".local", "build", f.LogicalID, "bootstrap")
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("%s: run `make build` first (make bench does): %w", f.LogicalID, err)
			}
			sizes = append(sizes, size{f.LogicalID, st.Size()})
		}
		sort.Slice(sizes, func(i, j int) bool { return sizes[i].n > sizes[j].n })
		shown, allPass := worst(sizes, func(s size) bool { return s.n <= maxBootstrapBytes })
		for _, s := range shown {
			pass := s.n <= maxBootstrapBytes
			b.tbl.add(row{name: fmt.Sprintf("5a. bootstrap size (linux/arm64): %s", s.id), contrail: mb(s.n), target: "≤ 20 MB", pass: &pass})
		}
		b.tbl.add(row{name: fmt.Sprintf("5a. bootstrap size: all %d functions", len(sizes)), contrail: fmt.Sprintf("max %s", mb(sizes[0].n)), duck: "floor " + mb(fi.Size()), target: "≤ 20 MB", pass: &allPass})
	}

	// Init: host builds with the same flags, started against a local runtime API.
	hostDir := filepath.Join(binDir, "host")
	var pkgs []string
	for _, f := range fns {
		pkgs = append(pkgs, "./functions/"+f.Dir)
	}
	// The smoke run builds without -trimpath and -ldflags, so it reuses what `make test`
	// compiled (a fresh CI machine would otherwise compile the SDK a second time).
	flags := lambdaFlags
	if b.o.smoke {
		flags = []string{"-tags", "lambda.norpc"}
	}
	if err := goBuild(ctx, b.o.root, "", flags, hostDir+"/", pkgs...); err != nil {
		return err
	}
	if err := goBuild(ctx, filepath.Join(b.o.root, "bench"), "", flags, filepath.Join(hostDir, "floor"), "./floor"); err != nil {
		return err
	}
	rt, err := startRuntimeAPI()
	if err != nil {
		return err
	}
	defer rt.srv.Close()
	// The list routes read their cursor key from Secrets Manager at cold start: a local one
	// holds it, so their start includes that read, as in AWS.
	refs, secrets := localRefs(tpl)
	sm := httptest.NewServer(emulator.NewSecretsManager(secrets, emulator.SecretsOptions{}))
	defer sm.Close()
	type initTime struct {
		id string
		d  time.Duration
	}
	floorEnv := baseEnv(rt.addr, "floor")
	var floorTimes []time.Duration
	var inits []initTime
	for _, f := range fns {
		env, err := tpl.FunctionEnv(f, refs)
		if err != nil {
			return err
		}
		fenv := append(baseEnv(rt.addr, f.LogicalID), "AWS_ENDPOINT_URL_SECRETS_MANAGER="+sm.URL)
		for k, v := range env {
			fenv = append(fenv, k+"="+v)
		}
		var ts []time.Duration
		for i := 0; i < b.o.coldRuns; i++ {
			// Alternate with the floor, so both see the same machine.
			d, err := rt.start(ctx, filepath.Join(hostDir, f.Dir), fenv)
			if err != nil {
				return fmt.Errorf("%s: %w", f.LogicalID, err)
			}
			ts = append(ts, d)
			d, err = rt.start(ctx, filepath.Join(hostDir, "floor"), floorEnv)
			if err != nil {
				return fmt.Errorf("floor: %w", err)
			}
			floorTimes = append(floorTimes, d)
		}
		inits = append(inits, initTime{f.LogicalID, median(ts)})
	}
	sort.Slice(inits, func(i, j int) bool { return inits[i].d > inits[j].d })
	floor := median(floorTimes)
	shown, allPass := worst(inits, func(it initTime) bool { return it.d <= maxInit })
	for _, it := range shown {
		pass := it.d <= maxInit
		b.tbl.add(row{name: "5b. start to ready (host): " + it.id, contrail: fmtDur(it.d), duck: "floor " + fmtDur(floor), ratio: fmt.Sprintf("%.2f", float64(it.d)/float64(floor)), target: "≤ 30 ms", pass: &pass})
	}
	b.tbl.add(row{name: fmt.Sprintf("5b. start to ready: all %d functions", len(inits)), contrail: "max " + fmtDur(inits[0].d), duck: "floor " + fmtDur(floor), target: "≤ 30 ms", pass: &allPass})
	return nil
}

// worst returns the rows to list of sorted (worst first): the three worst and every other
// one that fails ok; and whether every one passes.
func worst[T any](sorted []T, ok func(T) bool) (shown []T, allPass bool) {
	allPass = true
	for i, v := range sorted {
		pass := ok(v)
		allPass = allPass && pass
		if i < 3 || !pass {
			shown = append(shown, v)
		}
	}
	return shown, allPass
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// goBuild builds pkgs (in dir's module) the way the Makefile builds functions; arch ""
// is the host.
func goBuild(ctx context.Context, dir, arch string, flags []string, out string, pkgs ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out)
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOOS=linux", "GOARCH="+arch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, b)
	}
	return nil
}

// baseEnv is what Lambda gives every function (and the local endpoints, so no client
// reaches out).
func baseEnv(runtimeAPI, name string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"_HANDLER=bootstrap", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=local",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "TZ=UTC", "HOME=/tmp",
	}
}

// localRefs are stand-in values for what template.yaml only knows once deployed, and the
// secrets the functions read.
func localRefs(tpl *template.Template) (map[string]string, []emulator.Secret) {
	refs := map[string]string{"HttpApi": "local"}
	for _, id := range tpl.ResourcesOfType("AWS::DynamoDB::Table") {
		refs[id] = "bench-" + id
		refs[id+".Arn"] = "arn:aws:dynamodb:us-east-1:000000000000:table/bench-" + id
		refs[id+".StreamArn"] = refs[id+".Arn"] + "/stream/2026-11-30T00:00:00.000"
	}
	for _, id := range tpl.ResourcesOfType("AWS::S3::Bucket") {
		refs[id] = "bench-" + strings.ToLower(id)
		refs[id+".Arn"] = "arn:aws:s3:::" + refs[id]
	}
	for _, id := range tpl.ResourcesOfType("AWS::SQS::Queue") {
		refs[id] = "https://sqs.us-east-1.amazonaws.com/000000000000/bench-" + id
		refs[id+".Arn"] = "arn:aws:sqs:us-east-1:000000000000:bench-" + id
		refs[id+".QueueName"] = "bench-" + id
	}
	for i, id := range tpl.ResourcesOfType("AWS::KMS::Key") { // nothing calls KMS before ready
		refs[id] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		refs[id+".Arn"] = "arn:aws:kms:us-east-1:000000000000:key/" + refs[id]
	}
	var secrets []emulator.Secret
	for _, id := range tpl.ResourcesOfType("AWS::SecretsManager::Secret") {
		refs[id] = "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + id
		secrets = append(secrets, emulator.Secret{ARN: refs[id], Name: id, Value: "bench-secret-0123456789abcdef0123456789abcdef"})
	}
	return refs, secrets
}

// runtimeAPI is a minimal Lambda runtime API: it notes when a process first asks for an
// invocation (it is ready to serve) and never answers.
type runtimeAPI struct {
	srv   *http.Server
	addr  string
	ready chan time.Time
}

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rt := &runtimeAPI{addr: ln.Addr().String(), ready: make(chan time.Time, 16)}
	rt.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
			select {
			case rt.ready <- time.Now():
			default:
			}
			<-r.Context().Done() // the process is killed while waiting
			return
		}
		http.Error(w, "not in this bench", http.StatusNotFound)
	})}
	go rt.srv.Serve(ln)
	return rt, nil
}

// start runs the binary until it asks for its first invocation and returns how long that took.
func (rt *runtimeAPI) start(ctx context.Context, bin string, env []string) (time.Duration, error) {
	for {
		select {
		case <-rt.ready: // drop a stale signal
			continue
		default:
		}
		break
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	select {
	case t := <-rt.ready:
		return t.Sub(t0), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("exited before asking for an invocation (%v): %s", err, out.String())
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("not ready after 10 s: %s", out.String())
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

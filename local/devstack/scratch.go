package devstack

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/template"
)

// ToolContext is the start of a command-line tool that runs for a seed: the seed given, or
// one from the clock when it is 0, and a context that Ctrl-C or SIGTERM cancels.
func ToolContext(seed uint64) (context.Context, context.CancelFunc, uint64) {
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx, stop, seed
}

// Scratch is what a command-line tool that starts a stack of its own needs (make isolate,
// make fuzz-routes, make chaos): the template, a temporary state folder, and a file for the
// functions' output named for the tool and the seed, kept after the run.
type Scratch struct {
	Template *template.Template
	State    string
	Log      *os.File
}

// NewScratch loads the template and makes the state folder and the log file of tool's run.
func NewScratch(tool string, seed uint64) (*Scratch, error) {
	path, err := template.Find()
	if err != nil {
		return nil, err
	}
	tpl, err := template.Load(path)
	if err != nil {
		return nil, err
	}
	state, err := os.MkdirTemp("", "contrail-"+tool+"-")
	if err != nil {
		return nil, fmt.Errorf("make the state folder: %w", err)
	}
	logs, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("contrail-%s-%d.log", tool, seed)))
	if err != nil {
		os.RemoveAll(state)
		return nil, fmt.Errorf("create the stack's log file: %w", err)
	}
	return &Scratch{Template: tpl, State: state, Log: logs}, nil
}

// Options are the stack options of the scratch: its root, state folder and output.
func (s *Scratch) Options() Options {
	return Options{Root: filepath.Dir(s.Template.Path), StateDir: s.State, Out: s.Log}
}

// StartFunctions starts a stack of the scratch that runs only functions and no schedules (the
// tool drives it), and returns it with the key that signs its dev tokens.
func (s *Scratch) StartFunctions(ctx context.Context, functions []string) (*Stack, []byte, error) {
	opts := s.Options()
	opts.Functions, opts.NoSchedules = functions, true
	st, err := Start(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	key, err := devauth.LoadOrCreateKey(filepath.Join(s.State, devauth.KeyFile))
	if err != nil {
		st.Stop()
		return nil, nil, err
	}
	return st, key, nil
}

// Close removes the state folder and closes the log file (which stays for reading).
func (s *Scratch) Close() {
	s.Log.Close()
	os.RemoveAll(s.State)
}

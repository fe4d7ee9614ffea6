package devstack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/contrail/contrail/local/template"
)

// Scratch is what a command-line tool that starts a stack of its own needs (make isolate,
// make fuzz-routes, make chaos): the template's path, a temporary state folder, and a file
// for the functions' output named for the tool and the seed, kept after the run.
type Scratch struct {
	Template string
	State    string
	Log      *os.File
}

// NewScratch finds the template and makes the state folder and the log file of tool's run.
func NewScratch(tool string, seed uint64) (*Scratch, error) {
	tpl, err := template.Find()
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
	return Options{Root: filepath.Dir(s.Template), StateDir: s.State, Out: s.Log}
}

// Close removes the state folder and closes the log file (which stays for reading).
func (s *Scratch) Close() {
	s.Log.Close()
	os.RemoveAll(s.State)
}

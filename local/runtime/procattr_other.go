//go:build !linux

package runtime

import "syscall"

// procAttr puts a function process in its own process group; outside Linux there is no
// parent-death signal, so only the stack's own cleanup ends it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

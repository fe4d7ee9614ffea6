//go:build !linux

package emulator

import "syscall"

// procAttr: its own process group (no parent-death signal outside Linux).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// listens cannot look at another process's sockets portably: whoever answers on a port
// picked from outside the ephemeral range is taken to be the process started there.
func listens(pid, port int) (bool, error) { return true, nil }

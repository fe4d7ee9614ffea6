package runtime

import "syscall"

// procAttr puts a function process in its own process group (a Ctrl-C in the terminal
// reaches only the stack, which then kills the group) and has the kernel kill it if the
// stack dies without cleaning up.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

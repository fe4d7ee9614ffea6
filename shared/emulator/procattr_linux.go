package emulator

import "syscall"

// procAttr: its own process group, and SIGKILL when the process that started it dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

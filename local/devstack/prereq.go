package devstack

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// checkPrerequisites makes sure Java 17+ and Node.js 20+ are installed, with a one-line
// error that says what to install when not.
func checkPrerequisites(ctx context.Context) error {
	for _, p := range []struct {
		bin, versionFlag, install string
		min                       int
		re                        *regexp.Regexp
	}{
		{"java", "-version", "install Java 17+ (e.g. apt-get install openjdk-17-jre-headless) for DynamoDB Local", 17, regexp.MustCompile(`version "(?:1\.)?(\d+)`)},
		{"node", "--version", "install Node.js 20+ with npm (e.g. from nodejs.org or apt-get install nodejs npm) for the SES emulator", 20, regexp.MustCompile(`^v(\d+)`)},
		{"npm", "--version", "install npm (it comes with Node.js 20+) to install the local emulators", 0, nil},
	} {
		path, err := exec.LookPath(p.bin)
		if err != nil {
			return fmt.Errorf("%s not found: %s", p.bin, p.install)
		}
		if p.re == nil {
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(vctx, path, p.versionFlag).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("%s %s failed (%v): %s", p.bin, p.versionFlag, err, p.install)
		}
		m := p.re.FindSubmatch(out)
		if m == nil {
			continue // an unusual version string: let the emulator try
		}
		if v, _ := strconv.Atoi(string(m[1])); v < p.min {
			return fmt.Errorf("%s %d is too old: %s", p.bin, v, p.install)
		}
	}
	return nil
}

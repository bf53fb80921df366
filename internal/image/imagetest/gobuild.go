// Package imagetest builds Go programs for the image tests: the binary an
// image holds has to be a real static Linux executable.
package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// GoBuild builds pkg (a package path as the go command takes it, from the
// test's directory) for linux/goarch with CGO_ENABLED=0 and -trimpath, the
// flags appended, into dir, and returns the executable's path. It skips the test when the go
// command is not on PATH, and fails it instead under CI=true.
func GoBuild(tb testing.TB, dir, pkg, goarch string, flags ...string) string {
	tb.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if testbed.InCI() {
			tb.Fatalf("the go command is not on PATH (CI=true: image tests must not be skipped): %v", err)
		}
		tb.Skipf("the go command is not on PATH, so no binary can be built for the image: %v", err)
	}
	out := filepath.Join(dir, filepath.Base(pkg)+"-"+goarch)
	args := append([]string{"build", "-trimpath", "-o", out}, flags...)
	cmd := exec.Command(goTool, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %v %s: %v\n%s", args, pkg, err, b)
	}
	return out
}

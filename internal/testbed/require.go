package testbed

import (
	"errors"
	"os"
	"testing"
)

// ErrNotInstalled reports that a broker binary is missing from this machine.
// Start functions wrap it with the apt-get command that installs the broker.
var ErrNotInstalled = errors.New("testbed: broker not installed")

// InCI reports whether the environment says we run in CI (CI=true), where a
// missing broker fails a test instead of skipping it.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireBroker ends the calling test when err (from a broker start) is not
// nil: it skips when the broker is not installed and we are not in CI, and
// fails otherwise. It does nothing when err is nil. Safe to call from any
// test goroutine that may call tb.Skip/tb.Fatal (the test's own).
func RequireBroker(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotInstalled) && !InCI() {
		tb.Skip(err.Error())
	}
	if errors.Is(err, ErrNotInstalled) {
		tb.Fatalf("%v (CI=true: integration tests must not be skipped)", err)
	}
	tb.Fatal(err)
}

package testbed

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// The node shared by one test binary, started on first use.
var shared struct {
	once   sync.Once
	active bool // RunWithRabbitMQ is running the tests
	dir    string
	r      *RabbitMQ
	err    error
}

// RunWithRabbitMQ runs the test binary's tests (m.Run) and then stops the
// node that SharedRabbitMQ may have started, and removes its directory. Use
// it as the whole TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testbed.RunWithRabbitMQ(m)) }
//
// The node is started lazily, so a run that selects no RabbitMQ test pays
// nothing.
func RunWithRabbitMQ(m *testing.M) int {
	shared.active = true
	code := m.Run()
	if shared.r != nil {
		if err := shared.r.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

// SharedRabbitMQ returns the test binary's RabbitMQ node, starting it on the
// first call (about 9 s). It skips or fails the test via RequireBroker when
// RabbitMQ is missing, and fails it when the node did not start. Tests must
// use fresh queue names (or purge) since the node is shared. The test
// binary's TestMain must be RunWithRabbitMQ, or the node would outlive it.
func SharedRabbitMQ(tb testing.TB) *RabbitMQ {
	tb.Helper()
	if !shared.active {
		tb.Fatal("testbed: SharedRabbitMQ needs TestMain to call testbed.RunWithRabbitMQ(m), which stops the node")
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "fleetbench-rabbitmq-")
		if shared.err != nil {
			return
		}
		// The node's HOME and data live here: others must traverse it.
		_ = os.Chmod(shared.dir, 0o755)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared.r, shared.err = StartRabbitMQ(ctx, shared.dir)
	})
	RequireBroker(tb, shared.err)
	return shared.r
}

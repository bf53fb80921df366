package confirm

import (
	"os"
	"testing"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// One RabbitMQ node for the whole test binary, started by the first test
// that needs it.
func TestMain(m *testing.M) { os.Exit(testbed.RunWithRabbitMQ(m)) }

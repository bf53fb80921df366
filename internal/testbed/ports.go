package testbed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago. All listeners are held open until every port is found, so the n are
// distinct; another process may still take one before the broker binds it
// (an accepted, tiny race).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testbed: find a free port on 127.0.0.1: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// freeRange returns the first of n consecutive free ports on 127.0.0.1
// (needed where a tool takes a port range, like rabbitmqctl's distribution
// ports). It tries random bases in 20000-29999, below the kernel's ephemeral
// range.
func freeRange(n int) (int, error) {
	for range 50 {
		base := 20000 + rand.IntN(10000-n)
		var lns []net.Listener
		ok := true
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("testbed: no %d consecutive free ports on 127.0.0.1 in 20000-29999", n)
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

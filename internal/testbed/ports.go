package testbed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
)

// Brokers' ports are chosen in 20000-29999, below the kernel's ephemeral
// range (32768-60999 by default): a port the kernel picked for ":0" can be
// handed out again as the local port of any outgoing connection — the
// fleet tests open thousands — between our check and the broker's bind, and
// RabbitMQ then fails to start with dist_port_already_used.
const portBase, portSpan = 20000, 10000

// freePorts returns n distinct TCP ports on 127.0.0.1 in 20000-29999 that
// were free a moment ago. All listeners are held open until every port is
// found, so the n are distinct; another process binding the same port
// before the broker does is a race of random picks among 10,000.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries == 50*n {
			return nil, fmt.Errorf("testbed: no %d free ports on 127.0.0.1 in %d-%d", n, portBase, portBase+portSpan-1)
		}
		ln, err := net.Listen("tcp", addr(portBase+rand.IntN(portSpan)))
		if err != nil {
			continue // taken: try another
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// freeRange returns the first of n consecutive free ports on 127.0.0.1
// (needed where a tool takes a port range, like rabbitmqctl's distribution
// ports). It tries random bases in 20000-29999, like freePorts, and keeps
// clear of the ports in avoid (chosen already, their listeners closed).
func freeRange(n int, avoid ...int) (int, error) {
	for range 50 {
		base := portBase + rand.IntN(portSpan-n)
		ok := !slices.ContainsFunc(avoid, func(p int) bool { return p >= base && p < base+n })
		var lns []net.Listener
		for p := base; ok && p < base+n; p++ {
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

package hub

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// RefusalLinesPerReason is how many refusal lines per reason the hub writes
// to Config.RefusalLog; after that it writes one line saying so, and only
// counts (Stats.ByReason).
const RefusalLinesPerReason = 5

// refusals counts refusals by reason and writes the first lines of each.
// Safe for concurrent use: past the line limit a refusal costs one atomic
// add; below it, writes are serialised by mu.
type refusals struct {
	counts   [numReasons]atomic.Uint64
	mu       sync.Mutex // serialises writes to w
	w        io.Writer  // nil: count only
	keyGroup bool       // the hub derives device keys from a group key
}

// add counts one refusal with reason r and reports whether its line is
// to be written (then call write with n): the first
// RefusalLinesPerReason+1 of each reason, when there is a writer. Past
// that a refusal costs this one atomic add, nothing else.
func (rs *refusals) add(r Reason) (n uint64, writeLine bool) {
	n = rs.counts[r].Add(1)
	return n, rs.w != nil && n <= RefusalLinesPerReason+1
}

// write writes the line of the n-th refusal with reason r of the client
// described by who (e.g. `device "dev-1"`); the line after the limit says
// that the rest are only counted. why must not hold a secret; refusal
// errors never do.
func (rs *refusals) write(r Reason, n uint64, who string, why error) {
	info := reasons[r]
	if r == ReasonWrongKey {
		info.fix = wrongKeyFix(rs.keyGroup)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if n <= RefusalLinesPerReason {
		fmt.Fprintf(rs.w, "hub: refused %s of %s [%s]: %v; fix: %s\n", info.action, who, info.name, why, info.fix)
	} else {
		fmt.Fprintf(rs.w, "hub: more [%s] refusals are counted, not printed (totals when the hub stops)\n", info.name)
	}
}

// byReason returns the non-zero counts by reason.
func (rs *refusals) byReason() map[Reason]uint64 {
	m := map[Reason]uint64{}
	for r := Reason(1); r < numReasons; r++ {
		if n := rs.counts[r].Load(); n > 0 {
			m[r] = n
		}
	}
	return m
}

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

// note counts one refusal with reason r of the client described by who
// (e.g. `device "dev-1"`), and writes its line while the reason is under
// the limit. why must not hold a secret; refusal errors never do.
func (rs *refusals) note(r Reason, who string, why error) {
	n := rs.counts[r].Add(1)
	if rs.w == nil || n > RefusalLinesPerReason+1 {
		return
	}
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

package confirm

import "sort"

// seqRange is the half-open range of sequence numbers [lo, hi).
type seqRange struct{ lo, hi uint64 }

// device is one device's delivery state. The seqs it has seen form three
// zones: below the window, the missed list names exactly the unseen ones
// (everything else there was seen); inside the window [lo, next) a bitmap
// slot per seq says seen or not; at and above next nothing was seen yet.
type device struct {
	next   uint64     // highest seen seq + 1; 0 when nothing was seen
	missed []seqRange // unseen seqs that slid out of the window; ascending, disjoint, not adjacent
}

// outcome of one observation.
type outcome uint8

const (
	inOrder   outcome = iota // first arrival, highest seq so far
	reordered                // first arrival, below the highest seq seen
	duplicate                // seen before
)

// windowLo is the lowest seq tracked by the bitmap of a window of w seqs
// whose next unseen seq is next.
func windowLo(next, w uint64) uint64 {
	if next > w {
		return next - w
	}
	return 0
}

// observe records seq for d, whose bitmap is bits (len(bits)*64 slots, slot
// = seq mod window). It runs in O(1) amortised time: every seq leaves the
// window once.
func (d *device) observe(bits []uint64, seq uint64) outcome {
	w := uint64(len(bits)) * 64
	lo := windowLo(d.next, w)
	switch {
	case seq >= d.next:
		newLo := windowLo(seq+1, w)
		if newLo > lo {
			// Seqs [lo, newLo) leave the window. Those below next were
			// tracked: move the unseen ones to missed and free their
			// slots (which the entering seqs reuse). Those at and above
			// next were never seen.
			end := min(newLo, d.next)
			for q := lo; q < end; q++ {
				if !getBit(bits, q, w) {
					d.addMissed(q, q+1)
				} else {
					clearBit(bits, q, w)
				}
			}
			if newLo > d.next {
				d.addMissed(d.next, newLo)
			}
		}
		setBit(bits, seq, w)
		d.next = seq + 1
		return inOrder
	case seq >= lo:
		if getBit(bits, seq, w) {
			return duplicate
		}
		setBit(bits, seq, w)
		return reordered
	default:
		if d.removeMissed(seq) {
			return reordered
		}
		return duplicate
	}
}

// addMissed appends [lo, hi), which is above every range already listed.
func (d *device) addMissed(lo, hi uint64) {
	if n := len(d.missed); n > 0 && d.missed[n-1].hi == lo {
		d.missed[n-1].hi = hi
		return
	}
	d.missed = append(d.missed, seqRange{lo, hi})
}

// removeMissed removes seq from the missed list and reports whether it was
// there (a late first arrival) or not (a duplicate).
func (d *device) removeMissed(seq uint64) bool {
	i := sort.Search(len(d.missed), func(i int) bool { return d.missed[i].hi > seq })
	if i == len(d.missed) || d.missed[i].lo > seq {
		return false
	}
	r := d.missed[i]
	switch {
	case r.lo == seq && r.hi == seq+1:
		d.missed = append(d.missed[:i], d.missed[i+1:]...)
	case r.lo == seq:
		d.missed[i].lo++
	case r.hi == seq+1:
		d.missed[i].hi--
	default:
		d.missed = append(d.missed, seqRange{})
		copy(d.missed[i+2:], d.missed[i+1:])
		d.missed[i] = seqRange{r.lo, seq}
		d.missed[i+1] = seqRange{seq + 1, r.hi}
	}
	return true
}

// account splits the seqs [0, sent) of d into lost ones (never seen) and
// counts the seen seqs at or above sent (unexpected: the publisher says it
// never sent them). visit is called for each lost seq in ascending order
// until it returns false.
func (d *device) account(bits []uint64, sent uint64, visit func(seq uint64) bool) (lost, unexpected uint64) {
	w := uint64(len(bits)) * 64
	lo := windowLo(d.next, w)
	more := visit != nil
	// Below the window: exactly the missed seqs are unseen.
	var missedAboveSent uint64
	for _, r := range d.missed {
		a, b := r.lo, min(r.hi, sent)
		if a < b {
			lost += b - a
			for q := a; more && q < b; q++ {
				more = visit(q)
			}
		}
		if r.hi > sent {
			missedAboveSent += r.hi - max(r.lo, sent)
		}
	}
	// Inside the window.
	var unseenAboveSent uint64
	for q := lo; q < d.next; q++ {
		seen := getBit(bits, q, w)
		switch {
		case q < sent && !seen:
			lost++
			if more {
				more = visit(q)
			}
		case q >= sent && !seen:
			unseenAboveSent++
		}
	}
	// Above everything seen.
	if sent > d.next {
		lost += sent - d.next
		for q := d.next; more && q < sent; q++ {
			more = visit(q)
		}
	}
	// Seen seqs >= sent: all of [sent, next) minus the unseen ones there.
	if d.next > sent {
		unexpected = d.next - sent - missedAboveSent - unseenAboveSent
	}
	return lost, unexpected
}

func getBit(bits []uint64, seq, w uint64) bool {
	s := seq % w
	return bits[s/64]&(1<<(s%64)) != 0
}

func setBit(bits []uint64, seq, w uint64) {
	s := seq % w
	bits[s/64] |= 1 << (s % 64)
}

func clearBit(bits []uint64, seq, w uint64) {
	s := seq % w
	bits[s/64] &^= 1 << (s % 64)
}

package confirm

import "hash/maphash"

// dedupe remembers the last n message ids (by 64-bit hash) and reports
// repeats. Oldest ids are forgotten first. Not safe for concurrent use.
type dedupe struct {
	seed maphash.Seed
	set  map[uint64]struct{}
	ring []uint64
	next int
	full bool
}

func newDedupe(n int) *dedupe {
	return &dedupe{seed: maphash.MakeSeed(), set: make(map[uint64]struct{}, n), ring: make([]uint64, n)}
}

// seen records id and reports whether it was recorded before (and not yet
// forgotten). It does not allocate once the set is full.
func (d *dedupe) seen(id string) bool {
	h := maphash.String(d.seed, id)
	if _, ok := d.set[h]; ok {
		return true
	}
	if d.full {
		delete(d.set, d.ring[d.next])
	}
	d.ring[d.next] = h
	d.set[h] = struct{}{}
	d.next++
	if d.next == len(d.ring) {
		d.next, d.full = 0, true
	}
	return false
}

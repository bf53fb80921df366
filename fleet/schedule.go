package fleet

import (
	"math"
	"sort"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// Schedule is the open-model publish timetable of the whole fleet: message m
// (counting from 0 across the fleet) is intended at time TimeOf(m) after the
// publish phase starts, whether or not the hub keeps up. It is a pure
// function of the stages; the zero value has no messages. Safe for
// concurrent use (read-only after NewSchedule).
//
// The fleet-wide rate r(t) is piecewise linear: within a stage of length D
// it moves from r0 to r1, so the number of messages due by τ into the stage is
//
//	C(τ) = r0·τ + (r1−r0)·τ²/(2D)
//
// and message m falls at the τ where the cumulative count reaches m. Solving
// the quadratic a·τ² + b·τ − c = 0 with a = (r1−r0)/(2D), b = r0, c = m − C0
// in the cancellation-free form τ = 2c / (b + √(b² + 4ac)) works for rising,
// falling and constant rates alike.
//
// Messages are dealt to devices round-robin (device slot s sends messages
// s, s+N, s+2N, ...), which spreads the load evenly across the fleet and
// across time: no thundering herd at second boundaries.
type Schedule struct {
	segs  []segment
	total float64 // messages in the whole schedule (C at the end), fractional
	end   time.Duration
}

type segment struct {
	start  time.Duration
	length time.Duration
	r0, r1 float64 // messages per second at the start and end of the segment
	before float64 // cumulative count at start
}

// NewSchedule builds the timetable of p's stages over d (the publish phase
// length). When d is longer than the stages, the last rate holds until d;
// when shorter, the stages are cut at d.
func NewSchedule(p scenario.Publish, d time.Duration) *Schedule {
	s := &Schedule{end: d}
	prev := p.StartRate // scenario.Load defaults it to the first stage's rate
	var at time.Duration
	add := func(length time.Duration, r0, r1 float64) {
		if at >= d || length <= 0 {
			return
		}
		if at+length > d { // cut: the rate at the cut point
			frac := float64(d-at) / float64(length)
			r1 = r0 + (r1-r0)*frac
			length = d - at
		}
		seg := segment{start: at, length: length, r0: r0, r1: r1, before: s.total}
		s.total += (r0 + r1) / 2 * length.Seconds()
		s.segs = append(s.segs, seg)
		at += length
	}
	for _, st := range p.Stages {
		add(st.Duration, prev, st.Rate)
		prev = st.Rate
	}
	add(d-at, prev, prev)
	return s
}

// Duration is the length of the publish phase.
func (s *Schedule) Duration() time.Duration { return s.end }

// Total is the number of messages the schedule holds: those with an
// intended time before Duration.
func (s *Schedule) Total() int64 {
	if s.total <= 0 {
		return 0
	}
	// message m exists iff TimeOf(m) < end, i.e. m < total.
	return int64(math.Ceil(s.total - 1e-9))
}

// CountBefore is the number of messages intended strictly before t: the
// integral of the rate from 0 to t, rounded up.
func (s *Schedule) CountBefore(t time.Duration) int64 {
	c := s.cumulative(t)
	if c <= 0 {
		return 0
	}
	return int64(math.Ceil(c - 1e-9))
}

func (s *Schedule) cumulative(t time.Duration) float64 {
	if t <= 0 || len(s.segs) == 0 {
		return 0
	}
	if t >= s.end {
		return s.total
	}
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].start+s.segs[i].length > t })
	g := s.segs[i]
	tau := (t - g.start).Seconds()
	slope := (g.r1 - g.r0) / g.length.Seconds()
	return g.before + g.r0*tau + slope*tau*tau/2
}

// TimeOf returns the intended time of fleet message m, and false when m is
// beyond the end of the schedule. It does not allocate.
func (s *Schedule) TimeOf(m int64) (time.Duration, bool) {
	c := float64(m)
	if m < 0 || c >= s.total-1e-9 {
		return 0, false
	}
	// The segment holding count c: the last with before <= c (a silent
	// segment shares its before with the next one, which is chosen).
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].before > c }) - 1
	g := s.segs[i]
	need := c - g.before
	D := g.length.Seconds()
	a := (g.r1 - g.r0) / (2 * D)
	b := g.r0
	var tau float64
	if need <= 0 {
		tau = 0
	} else {
		disc := b*b + 4*a*need
		if disc < 0 {
			disc = 0
		}
		den := b + math.Sqrt(disc)
		if den <= 0 {
			return 0, false
		}
		tau = 2 * need / den
	}
	if tau > D {
		tau = D
	}
	t := g.start + time.Duration(tau*float64(time.Second))
	if t >= s.end {
		return 0, false
	}
	return t, true
}

// MeanRate is the mean offered rate over the publish phase in messages per
// second.
func (s *Schedule) MeanRate() float64 {
	if s.end <= 0 {
		return 0
	}
	return s.total / s.end.Seconds()
}

// PeakRate is the highest fleet-wide rate anywhere in the schedule, in
// messages per second.
func (s *Schedule) PeakRate() float64 {
	peak := 0.0
	for _, g := range s.segs {
		peak = max(peak, g.r0, g.r1)
	}
	return peak
}

// PerDevice returns how many of the first total fleet messages fall to the
// device in slot (0 ≤ slot < devices) under round-robin dealing.
func PerDevice(total int64, slot, devices int) int64 {
	if int64(slot) >= total {
		return 0
	}
	return (total-int64(slot)-1)/int64(devices) + 1
}

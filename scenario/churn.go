package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Reconnect back-off defaults (connect.reconnect as a mapping, or `true`):
// the waits before a dropped device's attempts are 1 s, 2 s, 4 s, ...,
// at most 30 s, each shortened by up to half at random.
const (
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = 30 * time.Second
	DefaultJitter     = 0.5
)

// Backoff is how a dropped device waits before each reconnect attempt:
// attempt n (1, 2, ...) waits min(Initial·2^(n−1), Max)·(1 − Jitter·u),
// u uniform in [0, 1) (fleet.BackoffWait).
type Backoff struct {
	Initial time.Duration // wait before the first attempt, before jitter; > 0
	Max     time.Duration // cap of the doubling wait, ≥ Initial
	Jitter  float64       // share of the wait taken off at random, in [0, 1]
}

// Churn drops a share of the fleet every second during a window of the
// publish phase: the dropped devices reconnect by connect.reconnect's
// back-off. Times are offsets from the publish phase's start.
type Churn struct {
	Rate     float64       // share of the fleet dropped per second, in (0, 1]
	Start    time.Duration // from the publish phase's start
	Duration time.Duration // window length; > 0
}

// Storm drops a share of the fleet at one instant of the publish phase, as
// an outage would; the devices reconnect by connect.reconnect's back-off.
type Storm struct {
	At    time.Duration // from the publish phase's start
	Share float64       // share of the fleet dropped, in (0, 1]
}

var (
	reconnectKeys = []string{"backoff", "max_backoff", "jitter"}
	churnKeys     = []string{"rate", "start", "duration"}
	stormKeys     = []string{"at", "share"}
)

// ParseShare parses a share written as a percentage: "50%", "2.5%". It
// returns a fraction in [0, 1]; anything else is an error that says how to
// write it.
func ParseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(t, "%")
	if !ok {
		return 0, fmt.Errorf("share %q is not a percentage — write e.g. 50%%", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("share %q: %q is not a number — write e.g. 50%%", s, num)
	}
	if f < 0 || f > 100 {
		return 0, fmt.Errorf("share %q is outside 0%%–100%%", s)
	}
	return f / 100, nil
}

// ParseShareRate parses a share of the fleet per unit of time, "2%/s",
// "30%/min", and returns the fraction per second.
func ParseShareRate(s string) (float64, error) {
	share, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("%q is not a share per unit of time — write e.g. 2%%/s or 30%%/min", s)
	}
	f, err := ParseShare(share)
	if err != nil {
		return 0, err
	}
	r, err := ParseRate("1/" + unit)
	if err != nil {
		return 0, fmt.Errorf("%q has unknown unit %q — use /s, /min or /h", s, unit)
	}
	return f * r, nil
}

// share decodes a percentage in (0, 100%].
func (d *decoder) share(v *node, p string) (float64, bool) {
	if !d.gotScalar(v, p, "a percentage", "50%") {
		return 0, false
	}
	f, err := ParseShare(v.text)
	if err == nil && f <= 0 {
		err = fmt.Errorf("share %q is 0 — use more than 0%%", v.text)
	}
	if err != nil {
		d.reportErr(v.pos, p, err)
		return 0, false
	}
	return f, true
}

// decodeReconnect decodes connect.reconnect: true, false, or the back-off
// as a mapping (which means true).
func (d *decoder) decodeReconnect(v *node, p string, c *Connect) {
	if v.kind != kMap {
		c.Reconnect, _ = d.boolean(v, p)
		return
	}
	c.Reconnect = true
	d.object(v, p, reconnectKeys, func(key string, v *node, p string) {
		switch key {
		case "backoff":
			c.Backoff.Initial, _ = d.duration(v, p, time.Millisecond, time.Hour)
		case "max_backoff":
			c.Backoff.Max, _ = d.duration(v, p, time.Millisecond, time.Hour)
		case "jitter":
			c.Backoff.Jitter, _ = d.jitter(v, p)
		}
	})
}

func (d *decoder) jitter(v *node, p string) (float64, bool) {
	if !d.gotScalar(v, p, "a percentage", "50%") {
		return 0, false
	}
	f, err := ParseShare(v.text)
	if err != nil {
		d.reportErr(v.pos, p, err)
		return 0, false
	}
	return f, true
}

// finishBackoff applies the back-off defaults and checks the cap.
func (d *decoder) finishBackoff(c *Connect) {
	b := &c.Backoff
	if !d.has("connect.reconnect.backoff") {
		b.Initial = DefaultBackoff
	}
	if !d.has("connect.reconnect.max_backoff") {
		b.Max = max(DefaultMaxBackoff, b.Initial)
	}
	if !d.has("connect.reconnect.jitter") {
		b.Jitter = DefaultJitter
	}
	if b.Max < b.Initial && d.has("connect.reconnect.max_backoff") && d.has("connect.reconnect.backoff") {
		d.fail("connect.reconnect.max_backoff", fmt.Sprintf("%v is below backoff %v", b.Max, b.Initial),
			fmt.Sprintf("use max_backoff: %v or more", b.Initial))
	}
}

func (d *decoder) decodeChurn(v *node, c *Churn) {
	d.object(v, "churn", churnKeys, func(key string, v *node, p string) {
		switch key {
		case "rate":
			if !d.gotScalar(v, p, "a share per second", "2%/s") {
				return
			}
			r, err := ParseShareRate(v.text)
			if err == nil && (r <= 0 || r > 1) {
				err = fmt.Errorf("%q must be more than 0%%/s and at most 100%%/s", v.text)
			}
			if err != nil {
				d.reportErr(v.pos, p, err)
				return
			}
			c.Rate = r
		case "start":
			c.Start, _ = d.duration(v, p, 0, 365*24*time.Hour)
		case "duration":
			c.Duration, _ = d.duration(v, p, time.Millisecond, 365*24*time.Hour)
		}
	})
}

func (d *decoder) decodeStorm(v *node, st *Storm) {
	d.object(v, "storm", stormKeys, func(key string, v *node, p string) {
		switch key {
		case "at":
			st.At, _ = d.duration(v, p, 0, 365*24*time.Hour)
		case "share":
			st.Share, _ = d.share(v, p)
		}
	})
}

// finishDisruptions applies the churn and storm defaults and checks that
// they fall within the publish phase and that dropped devices come back.
func (d *decoder) finishDisruptions(s *Scenario) {
	if c := s.Churn; c != nil {
		if !d.has("churn.rate") && !d.given("churn.rate") {
			d.failKey("churn", "churn needs a rate", "add churn.rate, e.g. `churn: {rate: 2%/s}`")
		}
		switch {
		case c.Start >= s.Duration && d.has("churn.start"):
			d.fail("churn.start", fmt.Sprintf("%v is not within the publish phase (%v)", c.Start, s.Duration),
				fmt.Sprintf("use a start below %v", s.Duration))
		case !d.has("churn.duration"):
			c.Duration = max(s.Duration-c.Start, 0)
		case c.Start+c.Duration > s.Duration:
			d.fail("churn.duration", fmt.Sprintf("churn would run until %v, past the publish phase's end at %v", c.Start+c.Duration, s.Duration),
				fmt.Sprintf("use duration: %v or less (or remove it to churn until the end)", s.Duration-c.Start))
		}
		if !s.Connect.Reconnect {
			d.failKey("churn", "churned devices would never come back: connect.reconnect is false",
				"remove `reconnect: false` from connect, or remove churn")
		}
	}
	if st := s.Storm; st != nil {
		if !d.has("storm.at") && !d.given("storm.at") {
			d.failKey("storm", "a storm needs its instant", "add storm.at, e.g. `storm: {at: 30s}` (from the publish phase's start)")
		} else if st.At >= s.Duration && d.has("storm.at") {
			d.fail("storm.at", fmt.Sprintf("%v is not within the publish phase (%v)", st.At, s.Duration),
				fmt.Sprintf("use an instant below %v", s.Duration))
		}
		if !d.has("storm.share") {
			st.Share = 1
		}
		if !s.Connect.Reconnect {
			d.failKey("storm", "the storm's devices would never come back: connect.reconnect is false",
				"remove `reconnect: false` from connect, or remove storm")
		}
	}
}

package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Search dimensions: what a capacity search (`fleetbench capacity`) varies
// from step to step, keeping the rest of the scenario as written.
const (
	SearchPublishRate  = "publish.rate"  // the fleet's offered publish rate, msgs/s
	SearchDevicesCount = "devices.count" // the number of devices, at the scenario's per-fleet rate
	SearchConnectRate  = "connect.rate"  // new connections per second
)

// Search is a scenario's search section: how `fleetbench capacity` varies
// one dimension in steps on the open model, judges each step by the
// scenario's thresholds over its measured window, and bisects to the knee
// (docs/capacity.md). Loads are in the dimension's unit: msgs/s,
// devices, or connections/s.
type Search struct {
	Dimension string  // SearchPublishRate, SearchDevicesCount or SearchConnectRate
	From, To  float64 // first step's load and the highest load tried, From < To
	// Factor (> 1) multiplies the load from step to step; when 0, Add
	// (> 0) is added instead.
	Factor float64
	Add    float64
	// Warmup is the load applied before the measured Window starts; a
	// step runs Warmup + Window.
	Warmup, Window time.Duration
	// Resolution is the bisection's stopping width, as a share of the
	// load: it stops when first failing / last passing - 1 <= Resolution.
	Resolution float64
	MaxSteps   int // most steps (runs) in all, bisection included
	// DisconnectRate (share of the devices per second) and ErrorRate
	// (share of operations) are the emergency bounds: a step whose
	// dropped connections or errors reach them aborts the search. 0: no
	// such bound.
	DisconnectRate float64
	ErrorRate      float64
}

// Search defaults.
const (
	DefaultSearchWarmup     = 10 * time.Second
	DefaultSearchWindow     = 20 * time.Second
	DefaultSearchResolution = 0.05
	DefaultSearchMaxSteps   = 20
	DefaultSearchFactor     = 1.5
)

var (
	searchKeys    = []string{"dimension", "from", "to", "step", "warmup", "window", "resolution", "max_steps", "emergency"}
	emergencyKeys = []string{"disconnect_rate", "error_rate"}
)

// Next returns the load of the step after load: load·Factor or load+Add.
func (s *Search) Next(load float64) float64 {
	if s.Factor > 0 {
		return load * s.Factor
	}
	return load + s.Add
}

// Unit is the unit of the dimension's loads, for reports: "msgs/s",
// "devices" or "connects/s".
func (s *Search) Unit() string {
	switch s.Dimension {
	case SearchDevicesCount:
		return "devices"
	case SearchConnectRate:
		return "connects/s"
	}
	return "msgs/s"
}

// isRate reports whether the dimension's loads are rates (publish.rate,
// connect.rate) rather than counts.
func (s *Search) isRate() bool { return s.Dimension != SearchDevicesCount }

func (d *decoder) decodeSearch(v *node, s *Search) {
	d.object(v, "search", searchKeys, func(key string, v *node, p string) {
		switch key {
		case "dimension":
			s.Dimension, _ = d.enum(v, p, SearchPublishRate, SearchDevicesCount, SearchConnectRate)
		case "from":
			s.From, _ = d.load(v, p)
		case "to":
			s.To, _ = d.load(v, p)
		case "step":
			d.searchStep(v, p, s)
		case "warmup":
			s.Warmup, _ = d.duration(v, p, 0, 24*time.Hour)
		case "window":
			s.Window, _ = d.duration(v, p, time.Second, 24*time.Hour)
		case "resolution":
			s.Resolution, _ = d.share(v, p)
		case "max_steps":
			s.MaxSteps, _ = d.integer(v, p, 2, 1000)
		case "emergency":
			d.object(v, p, emergencyKeys, func(key string, v *node, p string) {
				switch key {
				case "disconnect_rate":
					if d.gotScalar(v, p, "a share per second", "5%/s") {
						r, err := ParseShareRate(v.text)
						if err != nil {
							d.reportErr(v.pos, p, err)
							return
						}
						s.DisconnectRate = r
					}
				case "error_rate":
					s.ErrorRate, _ = d.share(v, p)
				}
			})
		}
	})
}

// load decodes a step load: a rate ("500/s") or a count ("2000"), which
// the dimension decides in finishSearch; here both are accepted.
func (d *decoder) load(v *node, p string) (float64, bool) {
	if !d.gotScalar(v, p, "a load", "500/s") {
		return 0, false
	}
	if strings.Contains(v.text, "/") {
		return d.rate(v, p, 0, true)
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(v.text, "_", ""), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		d.report(v.pos, p, fmt.Sprintf("%q is not a positive load", v.text), "write a rate such as 500/s, or a device count such as 2000")
		return 0, false
	}
	return n, true
}

// searchStep decodes search.step: "×1.5" or "x1.5" (multiply), "+500/s"
// or "+100" (add).
func (d *decoder) searchStep(v *node, p string, s *Search) {
	if !d.gotScalar(v, p, "a step", "×1.5") {
		return
	}
	t := strings.TrimSpace(v.text)
	const fix = "write ×1.5 (or x1.5) to multiply the load by 1.5 each step, or +500/s (+100 for devices) to add"
	switch {
	case strings.HasPrefix(t, "×") || strings.HasPrefix(t, "x") || strings.HasPrefix(t, "*"):
		num := strings.TrimLeft(t, "×x*")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(f > 1) || math.IsInf(f, 0) {
			d.report(v.pos, p, fmt.Sprintf("%q is not a factor above 1", t), fix)
			return
		}
		s.Factor = f
	case strings.HasPrefix(t, "+") || v.typ != tString:
		// YAML reads +100 as the number 100: a bare number is an increment.
		num := strings.TrimSpace(strings.TrimPrefix(t, "+"))
		var f float64
		var err error
		if strings.Contains(num, "/") {
			f, err = ParseRate(num)
		} else {
			f, err = strconv.ParseFloat(num, 64)
		}
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			d.report(v.pos, p, fmt.Sprintf("%q is not a positive increment", t), fix)
			return
		}
		s.Add = f
	default:
		d.report(v.pos, p, fmt.Sprintf("%q is neither a factor nor an increment", t), fix)
	}
}

// finishSearch applies the search defaults and checks that the range and
// step make sense for the dimension.
func (d *decoder) finishSearch(s *Search, sc *Scenario) {
	if !d.given("search.dimension") {
		d.failKey("search", "a search needs a dimension", "add search.dimension: publish.rate (or devices.count, connect.rate)")
	}
	for _, k := range []string{"from", "to"} {
		if !d.given("search." + k) {
			d.failKey("search", "a search needs "+k, "add search.from and search.to, e.g. from: 500/s, to: 20000/s")
		}
	}
	if !d.has("search.step") && !d.given("search.step") {
		s.Factor = DefaultSearchFactor
	}
	if !d.has("search.warmup") && !d.given("search.warmup") {
		s.Warmup = DefaultSearchWarmup
	}
	if !d.has("search.window") && !d.given("search.window") {
		s.Window = DefaultSearchWindow
	}
	if !d.has("search.resolution") && !d.given("search.resolution") {
		s.Resolution = DefaultSearchResolution
	}
	if !d.has("search.max_steps") && !d.given("search.max_steps") {
		s.MaxSteps = DefaultSearchMaxSteps
	}
	if !d.has("search.dimension") {
		return
	}
	// Rates for rate dimensions, counts for devices.count.
	for _, k := range []string{"search.from", "search.to"} {
		if !d.has(k) {
			continue
		}
		isRate := strings.Contains(d.vals[k].text, "/")
		switch {
		case s.isRate() && !isRate:
			d.fail(k, s.Dimension+" is a rate", "write it per second, e.g. 500/s")
		case !s.isRate() && isRate:
			d.fail(k, "devices.count is a number of devices", "write a count, e.g. 2000")
		}
	}
	if d.has("search.from") && d.has("search.to") && s.From >= s.To {
		d.fail("search.to", fmt.Sprintf("%s is not above from (%s)", d.vals["search.to"].text, d.vals["search.from"].text),
			"make to the highest load to try, above from")
	}
	if d.has("search.step") && s.Add > 0 && s.isRate() != strings.Contains(d.vals["search.step"].text, "/") {
		d.fail("search.step", "the increment's unit does not match "+s.Dimension, "write +500/s for a rate, +100 for devices.count")
	}
	if len(sc.Thresholds) == 0 && !d.given("thresholds") {
		d.failKey("search", "nothing judges a step: the scenario has no thresholds",
			`add thresholds, e.g. {publish.p99: "< 200ms", publish.rate_ratio: ">= 0.99"}`)
	}
}

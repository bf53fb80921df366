package compare

import (
	"strings"
	"testing"
	"time"
)

func TestParseBudget(t *testing.T) {
	for _, c := range []struct {
		in     string
		metric string
		want   Budget
	}{
		{"publish.p99=10%", "publish.p99", Budget{Relative: 0.10}},
		{"publish.p99=0.1", "publish.p99", Budget{Relative: 0.10}},
		{" publish.p99 = 12.5% ", "publish.p99", Budget{Relative: 0.125}},
		{"publish.p99=5ms", "publish.p99", Budget{Absolute: 5 * time.Millisecond}},
		{"connect.p50=250us", "connect.p50", Budget{Absolute: 250 * time.Microsecond}},
		{"e2e=1s", "e2e", Budget{Absolute: time.Second}}, // a whole family
		{"e2e_device_to_hub.p99.95=200%", "e2e_device_to_hub.p99.95", Budget{Relative: 2}},
		{"connect.failed=50%", "connect.failed", Budget{Relative: 0.5}}, // a judged counter
		{"delivery.ratio=0.01%", "delivery.ratio", Budget{Relative: 0.0001}},
		{"publish.rate_ratio=0.05", "publish.rate_ratio", Budget{Relative: 0.05}},
	} {
		m, b, err := ParseBudget(c.in)
		if err != nil || m != c.metric || b != c.want {
			t.Errorf("ParseBudget(%q) = %q, %+v, %v; want %q, %+v", c.in, m, b, err, c.metric, c.want)
		}
	}
}

func TestParseBudgetErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // every error quotes the argument, then this
	}{
		{"publish.p99", `missing "=": write METRIC=LIMIT, e.g. publish.p99=10% or publish.p99=5ms`},
		{"=10%", `missing metric before "="`},
		{"publish.p99=", "missing limit after \"=\": write a percentage (10%), a fraction (0.1) or a duration (5ms)"},
		{"publsh.p99=10%", `unknown metric "publsh.p99" (did you mean publish.p99?)`},
		{"latency=10%", `unknown metric "latency": name a latency family (connect, publish, publish_uncorrected, e2e, e2e_device_to_hub, lateness, reconnect, recovery)`},
		{"publish.max=10%", "publish.max cannot carry a budget: a single outlier moves it"},
		{"publish.mean=10%", "name a percentile such as publish.p99"},
		{"publish.p100.5=10%", `unknown percentile "p100.5": write p<q> with 0 <= q <= 100`},
		{"publish.sent=10%", "publish.sent is reported but never judged"},
		{"publish.p99=ten%", `cannot read "ten%" as a percentage`},
		{"publish.p99=0%", "must be greater than 0%"},
		{"publish.p99=-5%", "must be greater than 0%"},
		{"publish.p99=0", "must be greater than 0"},
		{"publish.p99=10", "a plain number is a fraction and 10 would mean 1000%: write 10% if you mean per cent, or add a unit (10ms)"},
		{"publish.p99=NaN", `cannot read "NaN" as a limit`},
		{"publish.p99=Inf%", `cannot read "Inf%" as a percentage`},
		{"publish.p99=fast", `cannot read "fast": write a percentage (10%), a fraction (0.1) or a duration (5ms)`},
		{"publish.p99=-5ms", "duration -5ms must be greater than 0"},
		{"connect.failed=5ms", "a duration (5ms) only bounds latency metrics: give this counter a relative budget such as 10%"},
	} {
		_, _, err := ParseBudget(c.in)
		if err == nil {
			t.Errorf("ParseBudget(%q): no error, want %q", c.in, c.want)
			continue
		}
		prefix := `max regression "` + c.in + `": `
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBudget(%q) error\n got %q\nwant %q + ...%q...", c.in, err, prefix, c.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions([]string{"publish.p99=10%", "publish.p99=2ms", "connect.p50=20%"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.MaxRegression["publish.p99"]; got != (Budget{Relative: 0.1, Absolute: 2 * time.Millisecond}) {
		t.Errorf("publish.p99 = %+v, want 10%% and 2ms combined", got)
	}
	if got := o.familyBudget("publish"); got.String() != "10% and 2ms" {
		t.Errorf("publish family budget %q", got)
	}
	if got := o.familyBudget("connect"); got != (Budget{Relative: 0.2}) {
		t.Errorf("connect family budget %+v, want 20%% (explicit entries replace the default floor)", got)
	}
	if got := o.familyBudget("e2e"); got != defaultLatencyBudget {
		t.Errorf("e2e family budget %+v, want the default", got)
	}

	_, err = ParseOptions([]string{"publish.p99=10%", "publish.p99=20%", "nope=1%", "connect.p99=5ms"})
	if err == nil {
		t.Fatal("no error for a repeated bound and an unknown metric")
	}
	for _, want := range []string{
		`max regression "publish.p99=20%": publish.p99 already has a budget of 10%`,
		`max regression "nope=1%": unknown metric "nope"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "connect.p99") {
		t.Errorf("error %q mentions a valid argument", err)
	}
}

func TestFamilyBudgetIgnoresCounters(t *testing.T) {
	// publish.rate_ratio shares the "publish." prefix but is a counter.
	o := Options{MaxRegression: map[string]Budget{"publish.rate_ratio": {Relative: 0.5}}}
	if got := o.familyBudget("publish"); got != defaultLatencyBudget {
		t.Errorf("publish family budget %+v, want the default", got)
	}
	if got := o.counterBudget(counterSpecFor("publish.rate_ratio")); got != 0.5 {
		t.Errorf("rate_ratio budget %g, want 0.5", got)
	}
}

func TestBudgetString(t *testing.T) {
	for _, c := range []struct {
		b    Budget
		want string
	}{
		{Budget{}, "none"},
		{Budget{Relative: 0.1}, "10%"},
		{Budget{Relative: 0.001}, "0.1%"},
		{Budget{Absolute: 250 * time.Microsecond}, "250µs"},
		{defaultLatencyBudget, "10% and 100µs"},
	} {
		if got := c.b.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.b, got, c.want)
		}
	}
}

package scenario

import (
	"testing"
	"time"
)

const longBase = `devices: {count: 10}
publish:
  stages: [{duration: 60s, rate: 10/s}]
`

func TestChurnStormAndBackoffParse(t *testing.T) {
	s := mustParse(t, longBase+`connect:
  reconnect: {backoff: 500ms, max_backoff: 8s, jitter: 20%}
churn: {rate: 30%/min, start: 10s, duration: 20s}
storm: {at: 45s}
`)
	if want := (Backoff{Initial: 500 * time.Millisecond, Max: 8 * time.Second, Jitter: 0.2}); !s.Connect.Reconnect || s.Connect.Backoff != want {
		t.Errorf("reconnect %v backoff %+v, want true %+v", s.Connect.Reconnect, s.Connect.Backoff, want)
	}
	if want := (Churn{Rate: 0.005, Start: 10 * time.Second, Duration: 20 * time.Second}); s.Churn == nil || *s.Churn != want {
		t.Errorf("churn %+v, want %+v", s.Churn, want)
	}
	if want := (Storm{At: 45 * time.Second, Share: 1}); s.Storm == nil || *s.Storm != want {
		t.Errorf("storm %+v, want %+v", s.Storm, want)
	}
	// A churn without a duration lasts until the publish phase ends; the
	// old boolean form keeps working, with the default back-off.
	s = mustParse(t, longBase+"connect: {reconnect: true}\nchurn: {rate: 2%/s, start: 15s}\n")
	if s.Churn.Duration != 45*time.Second || s.Connect.Backoff != (Backoff{time.Second, 30 * time.Second, 0.5}) {
		t.Errorf("churn %+v backoff %+v", s.Churn, s.Connect.Backoff)
	}
	s = mustParse(t, longBase, "storm.at=5s", "storm.share=25%", "connect.reconnect.jitter=0%")
	if s.Storm.Share != 0.25 || s.Connect.Backoff.Jitter != 0 || !s.Connect.Reconnect {
		t.Errorf("storm %+v connect %+v from --set", s.Storm, s.Connect)
	}
}

func TestChurnStormAndBackoffProblems(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []want
	}{{
		name: "rate without a percentage",
		src:  longBase + "churn: {rate: 2/s}\n",
		want: []want{{"4:15 churn.rate", "share \"2\" is not a percentage — write e.g. 50%"}},
	}, {
		name: "rate without a unit",
		src:  longBase + "churn: {rate: 2%}\n",
		want: []want{{"4:15 churn.rate", "write e.g. 2%/s"}},
	}, {
		name: "churn past the publish phase",
		src:  longBase + "churn: {rate: 1%/s, start: 50s, duration: 20s}\n",
		want: []want{{"4:43 churn.duration", "past the publish phase's end at 1m0s — use duration: 10s or less"}},
	}, {
		name: "churn without a rate",
		src:  longBase + "churn: {start: 5s}\n",
		want: []want{{"4:1 churn", "churn needs a rate"}},
	}, {
		name: "storm after the publish phase",
		src:  longBase + "storm: {at: 2m}\n",
		want: []want{{"4:13 storm.at", "2m0s is not within the publish phase (1m0s)"}},
	}, {
		name: "storm of nobody",
		src:  longBase + "storm: {at: 5s, share: 0%}\n",
		want: []want{{"4:24 storm.share", `share "0%" is 0`}},
	}, {
		name: "storm without reconnect",
		src:  longBase + "connect: {reconnect: false}\nstorm: {at: 5s}\n",
		want: []want{{"5:1 storm", "would never come back: connect.reconnect is false"}},
	}, {
		name: "back-off cap below the back-off",
		src:  longBase + "connect:\n  reconnect: {backoff: 5s, max_backoff: 2s, jitter: 150%}\n",
		want: []want{
			{"5:41 connect.reconnect.max_backoff", "2s is below backoff 5s — use max_backoff: 5s or more"},
			{"5:53 connect.reconnect.jitter", "outside 0%–100%"},
		},
	}, {
		name: "unknown back-off key",
		src:  longBase + "connect:\n  reconnect: {delay: 5s}\n",
		want: []want{{"5:15 connect.reconnect.delay", `unknown key "delay"`}},
	}} {
		t.Run(c.name, func(t *testing.T) { checkProblems(t, parseProblems(t, c.src), c.want) })
	}
}

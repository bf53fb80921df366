package compare

import "fmt"

// Verdict is the outcome of comparing one metric, one latency family or a
// whole run. The zero value is Same.
type Verdict int

// Verdicts, from the new run's point of view.
const (
	Same         Verdict = iota // no change beyond budget that the data can tell from noise
	Better                      // improved beyond budget, significantly
	Worse                       // regressed beyond budget, significantly: a regression
	Inconclusive                // moved beyond budget, but too few samples to tell
)

var verdictNames = [...]string{Same: "same", Better: "better", Worse: "worse", Inconclusive: "inconclusive"}

// String returns "same", "better", "worse" or "inconclusive".
func (v Verdict) String() string {
	if v < 0 || int(v) >= len(verdictNames) {
		return fmt.Sprintf("Verdict(%d)", int(v))
	}
	return verdictNames[v]
}

// MarshalText encodes v as its String form, so JSON carries "worse", not 2.
func (v Verdict) MarshalText() ([]byte, error) {
	if v < 0 || int(v) >= len(verdictNames) {
		return nil, fmt.Errorf("compare: invalid verdict %d", int(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText is the inverse of MarshalText.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, n := range verdictNames {
		if n == string(b) {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("compare: unknown verdict %q (want same, better, worse or inconclusive)", b)
}

// combine folds verdicts into an overall one: Worse if any is Worse, else
// Better if any is Better, else Inconclusive if any is Inconclusive, else
// Same. A run that improved one family while another could not be judged is
// reported as Better: Inconclusive only wins when nothing was decided.
func combine(vs ...Verdict) Verdict {
	var better, inconclusive bool
	for _, v := range vs {
		switch v {
		case Worse:
			return Worse
		case Better:
			better = true
		case Inconclusive:
			inconclusive = true
		}
	}
	switch {
	case better:
		return Better
	case inconclusive:
		return Inconclusive
	}
	return Same
}

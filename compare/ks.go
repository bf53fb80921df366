package compare

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Alpha is the significance level of every test: a change is real only
// when its p-value is at most Alpha (1%).
const Alpha = 0.01

// MinSamples is the fewest values each run must have in a latency family
// for a Worse or Better verdict. With fewer, percentiles such as p99 are a
// handful of samples (p99 of 50 values is the maximum) and a move beyond
// budget is Inconclusive.
const MinSamples = 100

// EffectiveSampleCap bounds the sample size fed to the significance test.
// Latency samples of one run are not independent: a GC pause, a broker
// stall or a starved generator moves thousands of consecutive samples
// together, and run-to-run differences of the machine are shared by every
// sample of a run. Treating a million samples as independent would make
// every tiny difference "significant". With 10,000 per run, the test
// still detects a distance D above 0.023 at p < 0.01 (a 10% shift of a
// typical latency distribution gives D around 0.05-0.1).
const EffectiveSampleCap = 10_000

// ksTest is a two-sample Kolmogorov–Smirnov test on two HDR histograms.
type ksTest struct {
	D float64 // largest distance between the two empirical CDFs, in [0,1]
	P float64 // asymptotic two-sided p-value at the effective sample sizes
}

// ks computes the KS statistic from the histograms' cumulative
// distributions, walking both in value order. Values in the same HDR
// bucket count as equal (ties), which makes D slightly conservative. The
// histograms need not share a geometry: buckets are matched by their
// highest equivalent value.
func ks(a, b *hdrhistogram.Histogram) ksTest {
	na, nb := a.TotalCount(), b.TotalCount()
	if na == 0 || nb == 0 {
		return ksTest{P: 1}
	}
	da, db := nonEmpty(a.Distribution()), nonEmpty(b.Distribution())
	var (
		i, j     int
		ca, cb   int64
		dMax     float64
		fna, fnb = float64(na), float64(nb)
	)
	for i < len(da) || j < len(db) {
		// The next distinct value in either histogram.
		v := int64(math.MaxInt64)
		if i < len(da) {
			v = da[i].To
		}
		if j < len(db) && db[j].To < v {
			v = db[j].To
		}
		for i < len(da) && da[i].To <= v {
			ca += da[i].Count
			i++
		}
		for j < len(db) && db[j].To <= v {
			cb += db[j].Count
			j++
		}
		dMax = max(dMax, math.Abs(float64(ca)/fna-float64(cb)/fnb))
	}
	return ksTest{D: dMax, P: ksPValue(dMax, effective(na), effective(nb))}
}

func nonEmpty(bars []hdrhistogram.Bar) []hdrhistogram.Bar {
	out := bars[:0]
	for _, b := range bars {
		if b.Count > 0 {
			out = append(out, b)
		}
	}
	return out
}

func effective(n int64) float64 { return float64(min(n, EffectiveSampleCap)) }

// ksPValue is the asymptotic p-value of a two-sample KS distance d with
// sample sizes n and m: Q_KS((√ne + 0.12 + 0.11/√ne)·d) with ne = nm/(n+m)
// and Q_KS(λ) = 2 Σ_{j≥1} (-1)^{j-1} exp(-2 j² λ²) (Stephens' small-sample
// correction, as in Numerical Recipes' probks/kstwo).
func ksPValue(d, n, m float64) float64 {
	if d <= 0 || n <= 0 || m <= 0 {
		return 1
	}
	en := math.Sqrt(n * m / (n + m))
	return qKS((en + 0.12 + 0.11/en) * d)
}

// qKS is the Kolmogorov distribution's complementary CDF.
func qKS(lambda float64) float64 {
	if lambda < 0.2 { // the series converges slowly here and the sum is 1 to 1e-10
		return 1
	}
	a2 := -2 * lambda * lambda
	sum, fac, prev := 0.0, 2.0, 0.0
	for j := 1; j <= 100; j++ {
		term := fac * math.Exp(a2*float64(j*j))
		sum += term
		if math.Abs(term) <= 0.001*prev || math.Abs(term) <= 1e-8*sum {
			return min(max(sum, 0), 1)
		}
		fac = -fac
		prev = math.Abs(term)
	}
	return 1 // did not converge: only for tiny lambda, where p is 1
}

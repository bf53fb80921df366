package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestQKS(t *testing.T) {
	// Critical values of the Kolmogorov distribution (Smirnov 1948;
	// Numerical Recipes 14.3): Q(1.36) ≈ 0.05, Q(1.63) ≈ 0.01,
	// Q(1.22) ≈ 0.10, Q(0.5) ≈ 0.964.
	for _, c := range []struct{ lambda, want, tol float64 }{
		{1.3581, 0.05, 0.0005},
		{1.6276, 0.01, 0.0002},
		{1.2239, 0.10, 0.001},
		{0.5, 0.9639, 0.001},
		{0.1, 1, 0},
		{3, 3.05e-8, 0.01e-8},
	} {
		if got := qKS(c.lambda); math.Abs(got-c.want) > c.tol {
			t.Errorf("qKS(%g) = %.6g, want %.6g ± %g", c.lambda, got, c.want, c.tol)
		}
	}
}

func TestKSPValue(t *testing.T) {
	if p := ksPValue(0, 100, 100); p != 1 {
		t.Errorf("D=0: p=%g, want 1", p)
	}
	// n = m = 1000: ne = 500, λ = (√500 + 0.12 + 0.11/√500)·D; D = 0.073
	// gives λ ≈ 1.641, p ≈ 0.0091.
	if p := ksPValue(0.073, 1000, 1000); p < 0.008 || p > 0.0105 {
		t.Errorf("p = %g, want about 0.0091", p)
	}
	// A larger sample makes the same distance more significant.
	if ksPValue(0.05, 10_000, 10_000) >= ksPValue(0.05, 1000, 1000) {
		t.Error("p did not fall with sample size")
	}
}

// bruteKS is the textbook two-sample KS distance on raw samples.
func bruteKS(a, b []int64) float64 {
	slices.Sort(a)
	slices.Sort(b)
	vals := slices.Concat(a, b)
	slices.Sort(vals)
	d := 0.0
	for _, v := range vals {
		fa := float64(countLE(a, v)) / float64(len(a))
		fb := float64(countLE(b, v)) / float64(len(b))
		d = max(d, math.Abs(fa-fb))
	}
	return d
}

func countLE(sorted []int64, v int64) int {
	n, _ := slices.BinarySearch(sorted, v+1)
	return n
}

func TestKSMatchesRawSamples(t *testing.T) {
	// Values below 2048 are exact in a 3-digit HDR histogram, so the
	// histogram walk must give exactly the textbook statistic.
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		na, nb := 50+rng.IntN(500), 50+rng.IntN(500)
		shift := int64(rng.IntN(100))
		a, b := make([]int64, na), make([]int64, nb)
		ha, hb := hdrhistogram.New(1, 60_000_000, 3), hdrhistogram.New(1, 60_000_000, 3)
		for i := range a {
			a[i] = 1 + rng.Int64N(1500)
			_ = ha.RecordValue(a[i])
		}
		for i := range b {
			b[i] = 1 + shift + rng.Int64N(1500)
			_ = hb.RecordValue(b[i])
		}
		want := bruteKS(a, b)
		if got := ks(ha, hb); math.Abs(got.D-want) > 1e-12 {
			t.Errorf("trial %d: D = %.6f, want %.6f", trial, got.D, want)
		}
	}
}

func TestKSExtremes(t *testing.T) {
	a, b := hdrhistogram.New(1, 1_000_000, 3), hdrhistogram.New(1, 1_000_000, 3)
	for v := range int64(1000) {
		_ = a.RecordValue(1 + v)
		_ = b.RecordValue(1 + v)
	}
	if got := ks(a, b); got.D != 0 || got.P != 1 {
		t.Errorf("identical: %+v, want D=0 p=1", got)
	}
	c := hdrhistogram.New(1, 1_000_000, 3)
	for v := range int64(1000) {
		_ = c.RecordValue(5000 + v)
	}
	if got := ks(a, c); got.D != 1 || got.P > 1e-10 {
		t.Errorf("disjoint: %+v, want D=1, p≈0", got)
	}
	if got := ks(a, hdrhistogram.New(1, 1000, 3)); got.P != 1 {
		t.Errorf("empty side: %+v, want p=1", got)
	}
}

func TestEffectiveSampleCap(t *testing.T) {
	// A small distance is significant at a million independent samples,
	// but not at the capped effective size.
	if p := ksPValue(0.015, 1e6, 1e6); p > 1e-10 {
		t.Fatalf("uncapped p = %g", p)
	}
	if p := ksPValue(0.015, effective(1_000_000), effective(1_000_000)); p < Alpha {
		t.Errorf("capped p = %g, want > %g", p, Alpha)
	}
}

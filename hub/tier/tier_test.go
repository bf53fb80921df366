package tier

import "testing"

// The published figures (docs/hub.md): Free, B1 and S1 get 12/s per unit
// but at least 100/s; B2/S2 120/s per unit; B3/S3 6,000/s per unit.
func TestLookup(t *testing.T) {
	cases := []struct {
		tier        string
		units       int
		rate        float64
		meter       int
		dailyBlocks int64
	}{
		{"S1", 1, 100, 4096, 400_000},       // the 100/s floor
		{"s1", 2, 100, 4096, 800_000},       // 2 x 12 = 24 < 100: still the floor (the page's example)
		{"S1", 9, 108, 4096, 3_600_000},     // 9 x 12 = 108 (the page's example)
		{"B1", 10, 120, 4096, 4_000_000},    // Basic has the same figures as Standard
		{"S2", 3, 360, 4096, 18_000_000},    // 120 per unit, no floor
		{"S3", 2, 12000, 4096, 600_000_000}, // 6,000 per unit
		{"F1", 1, 100, 512, 8_000},          // the free tier meters 0.5 KB
	}
	for _, c := range cases {
		q, err := Lookup(c.tier, c.units)
		if err != nil {
			t.Fatalf("%s x %d: %v", c.tier, c.units, err)
		}
		if q.ConnectsPerSecond != c.rate || q.SendsPerSecond != c.rate || q.MeterBytes != c.meter || q.DailyBlocks != c.dailyBlocks {
			t.Errorf("%s x %d = %+v, want rate %g, meter %d, daily %d", c.tier, c.units, q, c.rate, c.meter, c.dailyBlocks)
		}
	}
	for _, bad := range []struct {
		tier  string
		units int
	}{{"S4", 1}, {"", 1}, {"S1", 0}, {"F1", 2}} {
		if _, err := Lookup(bad.tier, bad.units); err == nil {
			t.Errorf("%q x %d: accepted", bad.tier, bad.units)
		}
	}
}

func TestQuotaBlocks(t *testing.T) {
	q, _ := Lookup("S1", 1)
	for _, c := range []struct {
		bytes int
		want  int64
	}{{0, 1}, {1, 1}, {4096, 1}, {4097, 2}, {8192, 2}, {256 * 1024, 64}} {
		if got := q.Blocks(c.bytes); got != c.want {
			t.Errorf("Blocks(%d) = %d, want %d", c.bytes, got, c.want)
		}
	}
	f, _ := Lookup("F1", 1)
	if got := f.Blocks(1000); got != 2 {
		t.Errorf("F1 Blocks(1000) = %d, want 2 (0.5 KB blocks)", got)
	}
}

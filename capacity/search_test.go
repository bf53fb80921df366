package capacity

import (
	"context"
	"errors"
	"testing"
)

// fakeHub passes every load up to capacity and fails above; a load at or
// above emergencyAt trips an emergency bound.
type fakeHub struct {
	capacity, emergencyAt float64
	loads                 []float64
	err                   error
}

func (f *fakeHub) Step(_ context.Context, i int, load float64) (Step, error) {
	if f.err != nil && i == 2 {
		return Step{}, f.err
	}
	f.loads = append(f.loads, load)
	s := Step{Load: load, Passed: load <= f.capacity}
	if f.emergencyAt > 0 && load >= f.emergencyAt {
		s.Emergency = "disconnect rate 9%/s >= 5%/s"
	}
	return s, nil
}

func plan() Plan {
	return Plan{From: 500, To: 20000, Factor: 1.5, Resolution: 0.05, MaxSteps: 20}
}

func TestSearchBisectsToTheResolution(t *testing.T) {
	for _, capacity := range []float64{600, 3000, 3001, 12345, 19999} {
		f := &fakeHub{capacity: capacity}
		r := Search(context.Background(), plan(), f)
		if r.Outcome != Found || r.Knee == nil || r.Next == nil || !r.Resolved {
			t.Fatalf("capacity %v: %+v", capacity, r)
		}
		if r.Knee.Load > capacity || r.Next.Load <= capacity || r.Next.Load/r.Knee.Load-1 > 0.05 {
			t.Errorf("capacity %v: knee %v, next %v", capacity, r.Knee.Load, r.Next.Load)
		}
		if r.Knee.Load < capacity*0.95 {
			t.Errorf("capacity %v: knee %v is below the resolution", capacity, r.Knee.Load)
		}
	}
}

func TestSearchSteps(t *testing.T) {
	f := &fakeHub{capacity: 1e9}
	p := plan()
	r := Search(context.Background(), p, f)
	want := []float64{500, 750, 1125, 1687.5, 2531.3, 3797, 5695.5, 8543.3, 12814.9, 19222.4, 20000}
	if len(f.loads) != len(want) {
		t.Fatalf("loads %v, want %v", f.loads, want)
	}
	for i := range want {
		if f.loads[i] != want[i] {
			t.Errorf("step %d at %v, want %v", i, f.loads[i], want[i])
		}
	}
	if r.Outcome != AboveRange || r.Knee.Load != 20000 || r.Next != nil {
		t.Errorf("%+v", r)
	}
	p.Factor, p.Add, p.Whole, p.From, p.To = 0, 100, true, 100, 350
	f = &fakeHub{capacity: 1e9}
	Search(context.Background(), p, f)
	if got := f.loads; len(got) != 4 || got[1] != 200 || got[3] != 350 {
		t.Errorf("added steps %v, want 100 200 300 350", got)
	}
}

func TestSearchBelowRange(t *testing.T) {
	r := Search(context.Background(), plan(), &fakeHub{capacity: 100})
	if r.Outcome != BelowRange || r.Knee != nil || r.Next.Load != 500 || len(r.Steps) != 1 {
		t.Errorf("%+v", r)
	}
}

func TestSearchStopsOnEmergency(t *testing.T) {
	f := &fakeHub{capacity: 3000, emergencyAt: 3500}
	r := Search(context.Background(), plan(), f)
	if r.Outcome != Aborted || r.Next.Emergency == "" || r.Knee.Load != 2531.3 {
		t.Fatalf("%+v", r)
	}
	if last := f.loads[len(f.loads)-1]; last != 3797 {
		t.Errorf("ran on after the emergency: loads %v", f.loads)
	}
	// An emergency while bisecting stops it too.
	f = &fakeHub{capacity: 3000, emergencyAt: 3100}
	r = Search(context.Background(), Plan{From: 2000, To: 3050, Factor: 2, Resolution: 0.01, MaxSteps: 20}, f)
	if r.Outcome != Found && r.Outcome != Aborted {
		t.Fatalf("%+v", r)
	}
	for _, l := range f.loads[:len(f.loads)-1] {
		if l >= 3100 {
			t.Errorf("a load at %v after an emergency: %v", l, f.loads)
		}
	}
}

func TestSearchMaxSteps(t *testing.T) {
	p := plan()
	p.MaxSteps, p.Resolution = 9, 0.0001
	f := &fakeHub{capacity: 3000}
	r := Search(context.Background(), p, f)
	if len(f.loads) != 9 || r.Outcome != Found || r.Resolved {
		t.Errorf("loads %v outcome %v resolved %v", f.loads, r.Outcome, r.Resolved)
	}
}

func TestSearchStepError(t *testing.T) {
	boom := errors.New("unreachable")
	r := Search(context.Background(), plan(), &fakeHub{capacity: 1e9, err: boom})
	if r.Outcome != Failed || !errors.Is(r.Err, boom) || len(r.Steps) != 2 || r.Knee == nil {
		t.Errorf("%+v", r)
	}
}

package coord

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

const testSHA = "5ca1ab1e0000000000000000000000000000000000000000000000000000beef"

// newBareServer is a Server that does not listen: its state, driven
// directly, for time logic under synctest. Closed at the end of the test.
func newBareServer(t *testing.T, shards int, timeout time.Duration) *Server {
	t.Helper()
	s, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Token: NewToken(), Shards: shards, ScenarioSHA256: testSHA, RegisterTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reg(idx, count int) registerRequest {
	return registerRequest{Register: Register{Index: idx, Count: count, ScenarioSHA256: testSHA, Host: "h", PID: 100 + idx}}
}

func mustRegister(t *testing.T, s *Server, r registerRequest) {
	t.Helper()
	if rf := s.register(r); rf != nil {
		t.Fatalf("register shard %d: %v", r.Index, rf)
	}
}

func TestWaitRegisteredTimesOutNamingTheMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newBareServer(t, 4, 30*time.Second)
		mustRegister(t, s, reg(0, 4))
		mustRegister(t, s, reg(2, 4))
		start := time.Now()
		err := s.WaitRegistered(t.Context())
		if err == nil {
			t.Fatal("WaitRegistered returned nil with shards 1 and 3 missing")
		}
		if waited := time.Since(start); waited != 30*time.Second {
			t.Errorf("gave up after %v, want the 30s RegisterTimeout", waited)
		}
		for _, w := range []string{"shards 1, 3 of 4", "within 30s", TokenEnv} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	})
}

func TestWaitRegisteredReturnsWhenTheLastRegisters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newBareServer(t, 2, time.Minute)
		mustRegister(t, s, reg(0, 2))
		go func() {
			time.Sleep(10 * time.Second)
			mustRegister(t, s, reg(1, 2))
		}()
		start := time.Now()
		if err := s.WaitRegistered(t.Context()); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 10*time.Second {
			t.Fatalf("returned after %v, want when shard 1 registered (10s)", waited)
		}
	})
}

func TestWaitRegisteredContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newBareServer(t, 2, 0)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := s.WaitRegistered(ctx)
		if err == nil || !strings.Contains(err.Error(), "shards 0, 1 of 2") || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("error %v, want one naming shards 0, 1 and the context's end", err)
		}
	})
}

func TestRegisterRefusals(t *testing.T) {
	s := newBareServer(t, 2, 0)
	mustRegister(t, s, reg(0, 2))
	same := reg(0, 2)
	same.DevicesHi = 5 // the same process may register again (a retry)
	mustRegister(t, s, same)
	other := reg(0, 2)
	other.PID = 999
	wrongCount := reg(1, 3)
	wrongSHA := reg(1, 2)
	wrongSHA.ScenarioSHA256 = "feedface"
	outside := reg(2, 2)
	for _, tc := range []struct {
		name string
		r    registerRequest
		want string
	}{
		{"another process with a taken index", other, "already registered by pid 100 on h"},
		{"another shard count", wrongCount, "runs 2 shards, the shard says it is 1/3"},
		{"another scenario", wrongSHA, "another scenario (sha256 feedface, the coordinator's is 5ca1ab1e0000…)"},
		{"index outside the fleet", outside, "outside 0..1"},
	} {
		rf := s.register(tc.r)
		if rf == nil || rf.status != 409 || !strings.Contains(rf.msg, tc.want) {
			t.Errorf("%s: got %v, want 409 saying %q", tc.name, rf, tc.want)
		}
	}
	if got := s.Shards(); len(got) != 1 || got[0].PID != 100 || got[0].DevicesHi != 5 {
		t.Fatalf("shards after refusals: %+v", got)
	}
	s.Stop("interrupted")
	if rf := s.register(reg(1, 2)); rf == nil || !strings.Contains(rf.msg, "stopped (interrupted)") {
		t.Fatalf("register after Stop: %v, want a refusal", rf)
	}
}

func TestProgressKeepsTheLatestWithoutAReader(t *testing.T) {
	s := newBareServer(t, 1, 0)
	mustRegister(t, s, reg(0, 1))
	for seq := int64(1); seq <= 1000; seq++ { // nobody reads Updates
		if _, rf := s.progress(Progress{Index: 0, Seq: seq}); rf != nil {
			t.Fatal(rf)
		}
	}
	s.progress(Progress{Index: 0, Seq: 3}) // late and stale: ignored
	if last := s.Shards()[0].Last; last == nil || last.Seq != 1000 {
		t.Fatalf("Last = %+v, want seq 1000", last)
	}
	if _, rf := s.progress(Progress{Index: 5}); rf == nil || rf.status != 409 {
		t.Fatalf("progress of an unregistered shard: %v, want 409", rf)
	}
}

func TestWaitFinals(t *testing.T) {
	sum := func(i int) *report.Summary { return &report.Summary{Shard: &report.ShardInfo{Index: i, Count: 3}} }
	t.Run("a shard gone without a final", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t, 3, 0)
			for i := range 3 {
				mustRegister(t, s, reg(i, 3))
			}
			start := time.Now()
			go func() {
				time.Sleep(2 * time.Second)
				s.final(0, sum(0))
				time.Sleep(3 * time.Second)
				s.final(2, sum(2))
			}()
			gone := func(i int) bool { return i == 1 && time.Since(start) >= 10*time.Second }
			finals, missing := s.WaitFinals(t.Context(), gone)
			if d := time.Since(start); d < 10*time.Second || d > 10*time.Second+goneEvery {
				t.Errorf("returned after %v, want when shard 1 was gone (10s)", d)
			}
			if len(finals) != 2 || finals[0] == nil || finals[2] == nil || !slices.Equal(missing, []int{1}) {
				t.Fatalf("finals %v missing %v, want 0 and 2, missing [1]", finals, missing)
			}
		})
	})
	t.Run("every final", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t, 2, 0)
			mustRegister(t, s, reg(0, 2))
			mustRegister(t, s, reg(1, 2))
			go func() {
				time.Sleep(time.Second)
				s.final(1, sum(1))
				s.final(0, sum(0))
			}()
			start := time.Now()
			finals, missing := s.WaitFinals(t.Context(), nil)
			if time.Since(start) != time.Second || len(finals) != 2 || missing != nil {
				t.Fatalf("after %v: finals %v missing %v", time.Since(start), finals, missing)
			}
		})
	})
	t.Run("context ends; a shard that never registered is missing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t, 2, 0)
			mustRegister(t, s, reg(0, 2))
			s.final(0, sum(0))
			ctx, cancel := context.WithTimeout(t.Context(), 7*time.Second)
			defer cancel()
			finals, missing := s.WaitFinals(ctx, func(int) bool { return false })
			if len(finals) != 1 || !slices.Equal(missing, []int{1}) {
				t.Fatalf("finals %v missing %v", finals, missing)
			}
		})
	})
	t.Run("a summary of another shard is refused", func(t *testing.T) {
		s := newBareServer(t, 3, 0)
		mustRegister(t, s, reg(0, 3))
		if rf := s.final(0, sum(2)); rf == nil || rf.status != 400 {
			t.Fatalf("got %v, want 400", rf)
		}
	})
}

func TestSetEpochAndStopKeepTheFirst(t *testing.T) {
	s := newBareServer(t, 1, 0)
	if _, done := s.startState(); done {
		t.Fatal("started before SetEpoch")
	}
	e := time.Unix(1_800_000_000, 5)
	s.SetEpoch(e)
	s.SetEpoch(e.Add(time.Hour))
	s.Stop("interrupted")
	s.Stop("later")
	rep, done := s.startState()
	if !done || !rep.Started || rep.EpochUnixNs != e.UnixNano() {
		t.Fatalf("start state %+v, want the first epoch", rep)
	}
	if c := s.control(); !c.Stop || c.Reason != "interrupted" {
		t.Fatalf("control %+v, want stop: interrupted", c)
	}
}

package fleet

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// The drain waits for devices behind schedule to send (or skip) every
// message that fell due, and for every sent QoS 1 message to be answered;
// it gives up at its deadline.
func TestDrainWaitsForDueMessagesAndAnswers(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		synctest.Test(t, func(t *testing.T) {
			rec := report.NewRecorder(report.RecorderConfig{})
			f := &Fleet{sc: &scenario.Scenario{Publish: scenario.Publish{QoS: qos}}, rec: rec}
			sh := rec.Shard(0)
			send := func(n int) {
				for range n {
					sh.Sent(0, time.Millisecond, qos)
				}
			}
			send(6)
			sh.Missed(1) // 7 of 10 due handled, nothing answered yet
			began := time.Now()
			done := make(chan time.Duration)
			go func() { f.drain(5*time.Second, 10); done <- time.Since(began) }()

			time.Sleep(time.Second)
			synctest.Wait()
			select {
			case <-done:
				t.Fatalf("QoS %d: drain returned with 3 of 10 due messages unsent", qos)
			default:
			}
			send(3) // the devices catch up
			if qos == 1 {
				time.Sleep(time.Second)
				synctest.Wait()
				select {
				case <-done:
					t.Fatal("QoS 1: drain returned with 9 messages unanswered")
				default:
				}
				for range 9 {
					sh.Acked(0, time.Millisecond, 2*time.Millisecond)
				}
			}
			if took := <-done; took >= 5*time.Second {
				t.Errorf("QoS %d: drain took %v: it waited for its deadline with everything handled", qos, took)
			}

			// Nothing more will come: the deadline ends the drain.
			go func() { f.drain(5*time.Second, 11); done <- 0 }()
			start := time.Now()
			<-done
			if waited := time.Since(start); waited != 5*time.Second {
				t.Errorf("QoS %d: with a message never sent the drain took %v, want its 5s", qos, waited)
			}
		})
	}
}

// The drain is a limit. Offered far more than any machine can send
// (1e9/s over 10 devices), the fleet sends nothing from the drain's end on
// and still accounts for every message: what was not sent by then is
// missed, what is unanswered is unacknowledged. The engine's own record of
// its last send proves the bound; no wall-clock window is asserted.
func TestDrainEndsAHugeBacklog(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos=%d", qos), func(t *testing.T) {
			h, key := startHub(t)
			sc := smallFleet(10, qos, 1e9, 300*time.Millisecond)
			sc.Drain = 300 * time.Millisecond
			rec := report.NewRecorder(report.RecorderConfig{})
			f, err := New(Config{
				Scenario: sc, Addr: h.Addr(), Recorder: rec, Run: 7, Credentials: sasProvider(t, h, key),
				TLS: NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
			})
			if err != nil {
				t.Fatal(err)
			}
			ph, err := f.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			m := rec.Result(f.since())
			tot := m.Totals
			if deadline := ph.PublishEnd + sc.Drain; m.LastSent >= deadline {
				t.Errorf("last send at %v, after the drain's end at %v", m.LastSent, deadline)
			}
			if tot.Sent == 0 || tot.Due != f.sched.Total() || tot.Due != tot.Sent+tot.Missed {
				t.Errorf("due %d (schedule %d), sent %d, missed %d: want due = schedule = sent + missed",
					tot.Due, f.sched.Total(), tot.Sent, tot.Missed)
			}
			if qos == 1 && tot.SentQoS1 != tot.Acked+tot.FailedQoS1+tot.Unacked() {
				t.Errorf("sent %d, acked %d, failed %d, unacked %d: accounting broken", tot.SentQoS1, tot.Acked, tot.Failed, tot.Unacked())
			}
		})
	}
}

// A hub that never answers within the drain: every message sent is
// unacknowledged when the drain ends, none failed (it left; its write did
// not fail).
func TestUnansweredMessagesAreUnackedNotFailed(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key, AckDelay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	sc := smallFleet(5, 1, 100, 300*time.Millisecond)
	sc.Drain = 200 * time.Millisecond
	_, rec, err := runAgainstHub(t, h, sc, sasProvider(t, h, key))
	if err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Sent == 0 || tot.Acked != 0 || tot.Failed != 0 || tot.Unacked() != tot.Sent || tot.UnackedOnDisconnect != 0 {
		t.Errorf("sent %d acked %d failed %d unacked %d (on disconnect %d); want every message sent unacked, none failed",
			tot.Sent, tot.Acked, tot.Failed, tot.Unacked(), tot.UnackedOnDisconnect)
	}
}

// A pacer far behind jumps to its first message within max_lateness of
// now: every message it passes over is more than max_lateness behind, and
// it stays on its own stride, over the whole fleet's messages or one
// shard's (positions 2..4 of 7: q counts the shard's messages).
func TestPacerSkipsOnlyWhatIsTooLate(t *testing.T) {
	sc := smallFleet(7, 0, 1000, 10*time.Second)
	for _, deal := range []dealing{{lo: 0, size: 7, n: 7}, {lo: 2, size: 3, n: 7}} {
		f := &Fleet{sc: sc, sched: NewSchedule(sc.Publish, sc.Duration), deal: deal}
		f.pubStart.Store(0)
		timeOf := func(q int64) (time.Duration, bool) { return f.sched.TimeOf(deal.message(q)) }
		for _, c := range []struct {
			now           time.Duration
			m, first, str int64
		}{
			{5 * time.Second, 100, 1, 3},       // 2.9 s behind: jumps
			{5 * time.Second, 4, 1, 3},         // from the very start
			{5 * time.Second, 2999, 2, 3},      // at the whole fleet's boundary already: stays
			{9 * time.Second, 0, 0, 1},         // one pacer
			{2 * time.Second, 12, 0, 4},        // nothing is too late yet: stays
			{5500 * time.Millisecond, 7, 7, 8}, // fractional boundary
		} {
			next := f.firstNotTooLate(c.now, c.m, c.first, c.str)
			late := c.now - sc.Publish.MaxLateness
			if next < c.m || (next-c.first)%c.str != 0 {
				t.Errorf("%+v %+v: next %d, want >= m on the pacer's stride", deal, c, next)
				continue
			}
			if next > c.m {
				if at, _ := timeOf(next - c.str); at >= late {
					t.Errorf("%+v %+v: next %d passes over message %d at %v, not more than max_lateness behind %v", deal, c, next, next-c.str, at, c.now)
				}
			}
			if at, ok := timeOf(next + c.str); ok && at < late {
				t.Errorf("%+v %+v: next %d stops short: message %d at %v is still too late", deal, c, next, next+c.str, at)
			}
		}
	}
}

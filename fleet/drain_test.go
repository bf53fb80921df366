package fleet

import (
	"testing"
	"testing/synctest"
	"time"

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

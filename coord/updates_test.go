package coord

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
)

func prog(idx int, seq int64) Progress { return Progress{Index: idx, Seq: seq} }

// seqs names each Progress as "shard#seq".
func seqs(ps []Progress) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%d#%d", p.Index, p.Seq)
	}
	return out
}

// drain reads everything q has queued (the pump must be idle after).
func drain(q *updateQueue) []Progress {
	var got []Progress
	for {
		synctest.Wait()
		select {
		case p := <-q.out:
			got = append(got, p)
		default:
			return got
		}
	}
}

func TestUpdateQueueDropsOnlySupersededProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newUpdateQueue(3)
		defer q.close()
		q.push(prog(0, 1))
		synctest.Wait() // the pump holds 0#1, blocked on the reader
		q.push(prog(0, 2))
		q.push(prog(1, 1))
		q.push(prog(1, 2)) // queue full: 0#2 1#1 1#2
		q.push(prog(2, 1)) // shard 2 has none queued: drops 1#1, superseded by 1#2, not 0#2 (shard 0's newest)
		q.push(prog(1, 3)) // drops shard 1's own oldest queued (1#2)
		got := drain(q)
		want := []Progress{prog(0, 1), prog(0, 2), prog(2, 1), prog(1, 3)}
		if !slices.EqualFunc(got, want, func(a, b Progress) bool { return a.Index == b.Index && a.Seq == b.Seq }) {
			t.Fatalf("delivered %v, want %v", seqs(got), seqs(want))
		}
		if q.dropped != 2 {
			t.Fatalf("dropped %d, want 2", q.dropped)
		}
	})
}

// With no reader at all, pushes never block, and once the reader comes
// the newest Progress of every shard is among what it reads, in order per
// shard.
func TestUpdateQueueNeverLosesAShardsNewest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const shards = 7
		q := newUpdateQueue(shards + 1)
		defer q.close()
		r := rand.New(rand.NewPCG(1, 2))
		newest := map[int]int64{}
		for range 5000 {
			i := r.IntN(shards)
			newest[i]++
			q.push(prog(i, newest[i]))
		}
		last := map[int]int64{}
		for _, p := range drain(q) {
			if p.Seq <= last[p.Index] {
				t.Fatalf("shard %d: seq %d after %d", p.Index, p.Seq, last[p.Index])
			}
			last[p.Index] = p.Seq
		}
		for i, n := range newest {
			if last[i] != n {
				t.Errorf("shard %d: last delivered seq %d, newest pushed %d", i, last[i], n)
			}
		}
	})
}

func TestUpdateQueueCloseClosesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newUpdateQueue(4)
		q.push(prog(0, 1))
		q.close()
		q.close() // twice is fine
		for range q.out {
		}
	})
}

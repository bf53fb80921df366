package coord

import "sync"

// updateQueue carries Progress from the HTTP handlers to the one reader of
// Server.Updates without ever blocking a handler. It holds at most limit
// entries; when full, push drops a queued Progress that a later queued one
// of the same shard supersedes (Progress is cumulative, so nothing but
// granularity is lost), preferring the pushing shard's own oldest. With
// limit > number of shards, a full queue always holds such an entry, so
// the newest Progress of every shard is never dropped.
//
// A pump goroutine moves entries to out; close stops it and closes out.
type updateQueue struct {
	mu      sync.Mutex
	pending []Progress
	limit   int
	dropped int64         // entries dropped because the queue was full
	wake    chan struct{} // capacity 1: "pending may be non-empty"
	done    chan struct{}
	out     chan Progress
	closeMu sync.Once
}

func newUpdateQueue(limit int) *updateQueue {
	q := &updateQueue{
		limit: limit,
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		out:   make(chan Progress),
	}
	go q.pump()
	return q
}

// push queues p; it never blocks on the reader.
func (q *updateQueue) push(p Progress) {
	q.mu.Lock()
	if len(q.pending) >= q.limit {
		q.dropSuperseded(p.Index)
	}
	q.pending = append(q.pending, p)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// dropSuperseded removes one queued entry to make room for a new Progress
// of shard idx: idx's own oldest queued entry if any (the new one
// supersedes it), else the oldest entry of any shard that has a later one
// queued, else (only possible with limit <= shards) the oldest entry.
// Called with mu held.
func (q *updateQueue) dropSuperseded(idx int) {
	victim := -1
	for i, p := range q.pending {
		if p.Index == idx {
			victim = i
			break
		}
	}
	if victim < 0 {
		later := make(map[int]bool, len(q.pending))
		for i := len(q.pending) - 1; i >= 0; i-- {
			if later[q.pending[i].Index] {
				victim = i // keeps going: the last found is the oldest
			}
			later[q.pending[i].Index] = true
		}
	}
	if victim < 0 {
		victim = 0
	}
	q.pending = append(q.pending[:victim], q.pending[victim+1:]...)
	q.dropped++
}

// pump hands queued entries to out in arrival order until close.
func (q *updateQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-q.done:
				return
			}
		}
		p := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		select {
		case q.out <- p:
		case <-q.done:
			return
		}
	}
}

// close stops the pump; out is closed once it has stopped. Entries not yet
// read are discarded. Safe to call more than once.
func (q *updateQueue) close() { q.closeMu.Do(func() { close(q.done) }) }

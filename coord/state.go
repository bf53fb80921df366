package coord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// goneEvery is how often WaitFinals asks gone about shards without a final.
const goneEvery = 100 * time.Millisecond

// refusal is a request the coordinator turns down: an HTTP status and a
// message the shard returns as its error.
type refusal struct {
	status int
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

// changedLocked wakes every waiter on s.changed. Called with mu held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// register admits a shard, or re-admits the same process (same host and
// PID) idempotently, updating its clock measurement.
func (s *Server) register(req registerRequest) *refusal {
	r := req.Register
	switch {
	case r.Count != s.cfg.Shards:
		return refuse(http.StatusConflict, "this coordinator runs %d shards, the shard says it is %d/%d: start every shard with --shard I/%d", s.cfg.Shards, r.Index, r.Count, s.cfg.Shards)
	case r.Index < 0 || r.Index >= s.cfg.Shards:
		return refuse(http.StatusConflict, "shard index %d is outside 0..%d", r.Index, s.cfg.Shards-1)
	case r.ScenarioSHA256 != s.cfg.ScenarioSHA256:
		return refuse(http.StatusConflict, "shard %d runs another scenario (sha256 %s, the coordinator's is %s): give every shard the same scenario file and overrides", r.Index, short(r.ScenarioSHA256), short(s.cfg.ScenarioSHA256))
	case r.DevicesLo < 0 || r.DevicesHi < r.DevicesLo:
		return refuse(http.StatusBadRequest, "shard %d: device range [%d, %d) is not a range", r.Index, r.DevicesLo, r.DevicesHi)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return refuse(http.StatusConflict, "the run was stopped (%s): no shard can join it", s.stopReason)
	}
	if old, ok := s.shards[r.Index]; ok && (old.Host != r.Host || old.PID != r.PID) {
		return refuse(http.StatusConflict, "shard %d is already registered by pid %d on %s: each shard index runs once", r.Index, old.PID, old.Host)
	}
	st, ok := s.shards[r.Index]
	if !ok {
		st = &ShardState{}
		s.shards[r.Index] = st
	}
	st.Register = r
	st.ClockOffset = time.Duration(req.ClockOffsetNs)
	st.RTT = time.Duration(req.RTTNs)
	st.LastSeen = s.now()
	s.changedLocked()
	return nil
}

// short abbreviates a hex digest for a message.
func short(sha string) string {
	if sha == "" {
		return `""`
	}
	if len(sha) > 12 {
		return sha[:12] + "…"
	}
	return sha
}

// seen checks that shard idx registered and notes that it was heard from.
func (s *Server) seen(idx int) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.shards[idx]
	if !ok {
		return refuse(http.StatusConflict, "shard %d has not registered: register first (POST /v1/register)", idx)
	}
	st.LastSeen = s.now()
	return nil
}

// progress records p as shard p.Index's latest state (unless an equal or
// later Seq is already recorded), queues it for Updates and returns the
// shard's orders.
func (s *Server) progress(p Progress) (Control, *refusal) {
	s.mu.Lock()
	st, ok := s.shards[p.Index]
	if !ok {
		s.mu.Unlock()
		return Control{}, refuse(http.StatusConflict, "shard %d has not registered: register first (POST /v1/register)", p.Index)
	}
	st.LastSeen = s.now()
	newer := st.Last == nil || p.Seq > st.Last.Seq
	if newer {
		st.Last = &p
	}
	c := s.controlLocked()
	s.mu.Unlock()
	if newer {
		s.updates.push(p)
	}
	return c, nil
}

// final records shard idx's final summary (a repeated upload replaces it).
func (s *Server) final(idx int, sum *report.Summary) *refusal {
	if sum.Shard != nil && sum.Shard.Index != idx {
		return refuse(http.StatusBadRequest, "summary is shard %d's, uploaded as shard %d's", sum.Shard.Index, idx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.shards[idx]
	if !ok {
		return refuse(http.StatusConflict, "shard %d has not registered: register first (POST /v1/register)", idx)
	}
	st.LastSeen = s.now()
	st.Final = sum
	s.changedLocked()
	return nil
}

// control is the current answer to a shard.
func (s *Server) control() Control {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.controlLocked()
}

func (s *Server) controlLocked() Control {
	return Control{Stop: s.stopped, Reason: s.stopReason}
}

// missingLocked lists, in order, the shard indices for which has is false
// (never-registered shards included). Called with mu held.
func (s *Server) missingLocked(has func(*ShardState) bool) []int {
	var missing []int
	for i := range s.cfg.Shards {
		if st, ok := s.shards[i]; !ok || !has(st) {
			missing = append(missing, i)
		}
	}
	return missing
}

// WaitRegistered returns nil once every shard has registered, or an error
// naming the missing shard indices when cfg.RegisterTimeout passes, ctx
// ends or the Server is closed.
func (s *Server) WaitRegistered(ctx context.Context) error {
	wctx := ctx
	if s.cfg.RegisterTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, s.cfg.RegisterTimeout)
		defer cancel()
	}
	for {
		s.mu.Lock()
		missing := s.missingLocked(func(*ShardState) bool { return true })
		changed := s.changed
		s.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-s.closed:
			return fmt.Errorf("coordinator closed while waiting for %s to register", shardList(missing, s.cfg.Shards))
		case <-wctx.Done():
			if ctx.Err() == nil { // our own timeout
				return fmt.Errorf("%s did not register within %s: start each with --shard I/%d --coordinator URL and the run token (%s or --token-file), and check it can reach %s",
					shardList(missing, s.cfg.Shards), s.cfg.RegisterTimeout, s.cfg.Shards, TokenEnv, s.listenAddr())
			}
			return fmt.Errorf("waiting for %s to register: %w", shardList(missing, s.cfg.Shards), ctx.Err())
		}
	}
}

// shardList names shard indices: "shard 2 of 4", "shards 1, 3 of 4".
func shardList(idx []int, n int) string {
	parts := make([]string, len(idx))
	for i, v := range idx {
		parts[i] = strconv.Itoa(v)
	}
	word := "shards"
	if len(idx) == 1 {
		word = "shard"
	}
	return fmt.Sprintf("%s %s of %d", word, strings.Join(parts, ", "), n)
}

func (s *Server) listenAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return s.cfg.Addr
	}
	return s.addr
}

// SetEpoch fixes the run's epoch (coordinator clock) and releases every
// WaitStart, present and future; each shard receives it converted to its
// own clock. Only the first call counts: a run has one epoch.
func (s *Server) SetEpoch(epoch time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.epoch.IsZero() {
		return
	}
	s.epoch = epoch
	close(s.started)
}

// Stop makes every later Control say Stop with reason, and a WaitStart not
// yet released return an error. Only the first reason is kept.
func (s *Server) Stop(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped, s.stopReason = true, reason
	close(s.stopCh)
}

// WaitFinals returns when every shard has uploaded its final summary, or
// each one without a final is gone (gone(i) true: its process exited, its
// heartbeat was lost; gone nil means never), or ctx ends, or the Server is
// closed. finals holds the summaries received, by shard index; missing
// lists, in order, the shards without one (never-registered ones
// included). gone is called without locks held, about every 100ms.
func (s *Server) WaitFinals(ctx context.Context, gone func(index int) bool) (finals map[int]*report.Summary, missing []int) {
	tick := time.NewTicker(goneEvery)
	defer tick.Stop()
	for {
		s.mu.Lock()
		finals = make(map[int]*report.Summary, len(s.shards))
		for i, st := range s.shards {
			if st.Final != nil {
				finals[i] = st.Final
			}
		}
		missing = s.missingLocked(func(st *ShardState) bool { return st.Final != nil })
		changed := s.changed
		s.mu.Unlock()
		if gone != nil && !slices.ContainsFunc(missing, func(i int) bool { return !gone(i) }) {
			return finals, missing
		}
		if len(missing) == 0 {
			return finals, missing
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-ctx.Done():
			return finals, missing
		case <-s.closed:
			return finals, missing
		}
	}
}

// Shards returns a snapshot of every registered shard, by index.
func (s *Server) Shards() []ShardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ShardState, 0, len(s.shards))
	for _, st := range s.shards {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b ShardState) int { return a.Index - b.Index })
	return out
}

// errClosed is returned to waiters when the Server closes.
var errClosed = errors.New("coordinator closed")

package coord

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// handler is the whole HTTP surface: the token gate in front of every
// route, unknown ones included, so that nothing answers a stranger but
// 401.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/clock", s.handleClock)
	mux.HandleFunc("POST /v1/register", s.handleRegister)
	mux.HandleFunc("GET /v1/start", s.handleStart)
	mux.HandleFunc("POST /v1/progress", s.handleProgress)
	mux.HandleFunc("GET /v1/control", s.handleControl)
	mux.HandleFunc("POST /v1/final", s.handleFinal)
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.gate.admits(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fleetbench"`)
			writeJSON(w, http.StatusUnauthorized, errorReply{Error: "unauthorized: present the run's token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) handleClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, clockReply{CoordinatorUnixNs: s.now().UnixNano()})
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if !decodeBody(w, r, maxBodyBytes, &req) {
		return
	}
	if rf := s.register(req); rf != nil {
		writeRefusal(w, rf)
		return
	}
	if s.cfg.RunStamp != 0 {
		writeJSON(w, http.StatusOK, registerReply{RunStamp: s.cfg.RunStamp})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleStart long-polls: it answers with the epoch as soon as there is
// one, with a stop if the run was stopped first, or with neither after
// pollTimeout (the shard asks again).
func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	idx, ok := indexParam(w, r)
	if !ok {
		return
	}
	if rf := s.seen(idx); rf != nil {
		writeRefusal(w, rf)
		return
	}
	if rep, done := s.startState(); done {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	if s.onPoll != nil {
		s.onPoll()
	}
	t := time.NewTimer(s.pollTimeout)
	defer t.Stop()
	select {
	case <-s.started:
	case <-s.stopCh:
	case <-t.C:
	case <-s.closed:
		writeJSON(w, http.StatusServiceUnavailable, errorReply{Error: errClosed.Error()})
		return
	case <-r.Context().Done():
		return
	}
	rep, _ := s.startState()
	writeJSON(w, http.StatusOK, rep)
}

// startState is the answer to GET /v1/start now, and whether it is final.
func (s *Server) startState() (startReply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.epoch.IsZero():
		return startReply{Started: true, EpochUnixNs: s.epoch.UnixNano()}, true
	case s.stopped:
		return startReply{Stop: true, Reason: s.stopReason}, true
	}
	return startReply{}, false
}

func (s *Server) handleProgress(w http.ResponseWriter, r *http.Request) {
	var p Progress
	if !decodeBody(w, r, maxBodyBytes, &p) {
		return
	}
	c, rf := s.progress(p)
	if rf != nil {
		writeRefusal(w, rf)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleControl(w http.ResponseWriter, r *http.Request) {
	idx, ok := indexParam(w, r)
	if !ok {
		return
	}
	if rf := s.seen(idx); rf != nil {
		writeRefusal(w, rf)
		return
	}
	writeJSON(w, http.StatusOK, s.control())
}

func (s *Server) handleFinal(w http.ResponseWriter, r *http.Request) {
	idx, ok := indexParam(w, r)
	if !ok {
		return
	}
	sum, err := report.ReadJSON(http.MaxBytesReader(w, r.Body, maxFinalBytes))
	if err != nil {
		writeBodyError(w, err)
		return
	}
	if rf := s.final(idx, sum); rf != nil {
		writeRefusal(w, rf)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// statusReply is the body of GET /v1/status.
type statusReply struct {
	Shards      int           `json:"shards"`
	EpochUnixNs int64         `json:"epoch_unix_ns,omitempty"`
	Stopped     bool          `json:"stopped,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	Registered  []shardStatus `json:"registered"`
}

// shardStatus is one registered shard in statusReply.
type shardStatus struct {
	Register
	ClockOffsetNs  int64     `json:"clock_offset_ns"`
	RTTNs          int64     `json:"rtt_ns"`
	LastSeenUnixNs int64     `json:"last_seen_unix_ns"`
	Last           *Progress `json:"last,omitempty"`
	Final          bool      `json:"final"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	rep := statusReply{Shards: s.cfg.Shards, Registered: []shardStatus{}}
	s.mu.Lock()
	if !s.epoch.IsZero() {
		rep.EpochUnixNs = s.epoch.UnixNano()
	}
	rep.Stopped, rep.Reason = s.stopped, s.stopReason
	s.mu.Unlock()
	for _, st := range s.Shards() {
		rep.Registered = append(rep.Registered, shardStatus{
			Register:       st.Register,
			ClockOffsetNs:  int64(st.ClockOffset),
			RTTNs:          int64(st.RTT),
			LastSeenUnixNs: st.LastSeen.UnixNano(),
			Last:           st.Last,
			Final:          st.Final != nil,
		})
	}
	writeJSON(w, http.StatusOK, rep)
}

// indexParam reads the ?index= query parameter, answering 400 when it is
// missing or not an integer.
func indexParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("index")
	i, err := strconv.Atoi(v)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{Error: "query parameter index=I (the shard's index) is missing or not an integer"})
		return 0, false
	}
	return i, true
}

// decodeBody decodes a JSON body of at most limit bytes into v, answering
// 413 or 400 itself when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v); err != nil {
		writeBodyError(w, err)
		return false
	}
	return true
}

func writeBodyError(w http.ResponseWriter, err error) {
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorReply{Error: "request body larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"})
		return
	}
	writeJSON(w, http.StatusBadRequest, errorReply{Error: "bad request body: " + err.Error()})
}

func writeRefusal(w http.ResponseWriter, rf *refusal) {
	writeJSON(w, rf.status, errorReply{Error: rf.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

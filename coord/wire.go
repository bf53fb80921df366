package coord

import (
	"github.com/fleetbench/fleetbench/report"
)

// Wire messages. Every body is JSON; docs/coordinator.md describes each
// field. Times on the wire are integer nanoseconds: instants as Unix
// nanoseconds, durations as nanoseconds.

// Register is what a shard tells the coordinator when it is ready to run
// (credentials built, target resolved): POST /v1/register.
type Register struct {
	Index          int    `json:"index"`           // this shard, 0 <= Index < Count
	Count          int    `json:"count"`           // shards in the fleet; must equal the coordinator's
	ScenarioSHA256 string `json:"scenario_sha256"` // hex SHA-256 of the effective scenario; must equal the coordinator's
	Host           string `json:"host"`            // the shard's hostname
	PID            int    `json:"pid"`             // the shard's process id
	// DevicesLo and DevicesHi are the device indices the shard runs:
	// [DevicesLo, DevicesHi).
	DevicesLo int `json:"devices_lo"`
	DevicesHi int `json:"devices_hi"`
}

// Progress is a shard's cumulative state, sent about once a second:
// POST /v1/progress. Every field is cumulative since the epoch, so a later
// Progress supersedes an earlier one of the same shard.
type Progress struct {
	Index     int           `json:"index"`      // the shard; the Client sets it to its registered index
	Seq       int64         `json:"seq"`        // increases by at least one per Progress of a shard
	ElapsedNs int64         `json:"elapsed_ns"` // since the epoch, shard clock, nanoseconds
	Totals    report.Totals `json:"totals"`     // cumulative counters (Go field names on the wire)
	// Hists holds the cumulative running histograms by family ("connect",
	// "publish", "publish_uncorrected", "lateness"): HdrHistogram V2
	// compressed, base64 (standard alphabet), values in microseconds.
	Hists map[string]string `json:"hists,omitempty"`
	Phase string            `json:"phase"` // "connect", "publish", "drain", "done"
}

// Control is the coordinator's answer to every Progress and to a poll
// (GET /v1/control).
type Control struct {
	Stop   bool   `json:"stop"`             // the shard must stop its run as on Ctrl-C
	Reason string `json:"reason,omitempty"` // why: "interrupted", "abort_on_fail: ...", ...
}

// registerRequest is the body of POST /v1/register: the registration with
// the clock offset the shard measured just before.
type registerRequest struct {
	Register
	ClockOffsetNs int64 `json:"clock_offset_ns"` // shard clock minus coordinator clock, nanoseconds
	RTTNs         int64 `json:"rtt_ns"`          // round trip of the probe that measured it, nanoseconds
}

// registerReply is the answer (200) to an admitted POST /v1/register when
// the coordinator hands out a run stamp; without one it answers 204 with no
// body, as before the field existed.
type registerReply struct {
	// RunStamp is the 32-bit run id the shard's devices must stamp into
	// every payload (ServerConfig.RunStamp); never 0.
	RunStamp uint32 `json:"run_stamp"`
}

// clockReply is the answer to POST /v1/clock: the coordinator's clock when
// it handled the probe.
type clockReply struct {
	CoordinatorUnixNs int64 `json:"coordinator_unix_ns"`
}

// startReply is the answer to GET /v1/start: either the epoch (Started),
// a stop before any start (Stop), or neither (poll again).
type startReply struct {
	Started     bool   `json:"started"`
	EpochUnixNs int64  `json:"epoch_unix_ns,omitempty"` // coordinator clock, Unix nanoseconds
	Stop        bool   `json:"stop,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// errorReply is the body of every 4xx and 5xx answer.
type errorReply struct {
	Error string `json:"error"`
}

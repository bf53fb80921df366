package report

import (
	"time"
)

// SchemaVersion identifies the summary.json format. Additive changes (new
// fields, new metric names, new histogram names) keep v1; a change that
// renames, removes or re-types a field, or changes a unit or meaning, bumps
// the major version. Readers ignore fields they do not know.
const SchemaVersion = "fleetbench.summary/v1"

// Summary is the one saved result of a run (summary.json): every output
// (terminal text, thresholds, regression comparison, plots, .hgrm) is
// rendered from it, and a saved summary can be re-reported later.
//
// Durations are float64 milliseconds in fields ending in _ms; rates are per
// second. A Summary is plain data: safe to read from many goroutines, not
// to mutate concurrently.
type Summary struct {
	Schema      string            `json:"schema"`               // SchemaVersion
	Run         RunInfo           `json:"run"`                  // what ran, where, when
	Config      ConfigEcho        `json:"config"`               // the load that was asked for
	Connect     ConnectStats      `json:"connect"`              // connection outcomes and latency
	Publish     PublishStats      `json:"publish"`              // device-side publish outcomes and latency
	Delivery    *DeliveryStats    `json:"delivery,omitempty"`   // end-to-end confirmation; nil without a consumer
	Hub         *HubStats         `json:"hub,omitempty"`        // hub-side counts; nil when the hub cannot be observed
	Recovery    *RecoveryStats    `json:"recovery,omitempty"`   // deliberate drops (churn, storm) and how devices came back; nil without
	Overhead    Overhead          `json:"overhead"`             // what the generator itself cost
	Series      []Point           `json:"series"`               // one point per collection interval
	Thresholds  []ThresholdResult `json:"thresholds,omitempty"` // pass/fail criteria, in scenario order
	Interrupted bool              `json:"interrupted"`          // the run was stopped early: results are partial
	Errors      []string          `json:"errors,omitempty"`     // run-level problems worth reading (never secrets)
	Notes       []string          `json:"notes,omitempty"`      // how to read the figures (e.g. the hub ran in-process); not problems
	// Histograms holds the full latency distributions, HdrHistogram V2
	// compressed base64, values in microseconds: "connect", "publish",
	// "publish_uncorrected", "lateness", and with a consumer "e2e" and
	// "e2e_device_to_hub".
	Histograms map[string]string `json:"histograms"`
	// Intervals holds per-interval histograms of the latency families
	// (the content of the .hlog interval logs): "connect", "publish" and
	// "publish_uncorrected" from the recorder, "e2e" when the confirmation
	// matcher stores it (SetIntervals). Each family's intervals add up to
	// its entry in Histograms. Absent in summaries written before it existed.
	Intervals map[string][]IntervalHist `json:"intervals,omitempty"`

	// Shard is set in a shard's own summary (`run --shard I/N`): which
	// part of the fleet it ran and when. Nil otherwise.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Shards lists, in a merged summary ([Merge]), every shard merged
	// into it, by index: its devices, overhead and errors. Nil otherwise.
	Shards []ShardResult `json:"shards,omitempty"`
	// Partial is set on a merged summary that lacks some shards
	// (MissingShards): its figures cover only part of the fleet.
	Partial       bool           `json:"partial,omitempty"`
	MissingShards []MissingShard `json:"missing_shards,omitempty"`
	// PublishStartSpreadNs is, in a merged summary, the latest minus the
	// earliest actual publish start of its shards, nanoseconds: how far
	// apart the shards began publishing.
	PublishStartSpreadNs int64 `json:"publish_start_spread_ns,omitempty"`
}

// Histogram names in Summary.Histograms.
const (
	HistConnect            = "connect"
	HistPublish            = "publish"
	HistPublishUncorrected = "publish_uncorrected"
	HistLateness           = "lateness"
	HistE2E                = "e2e"
	HistE2EDeviceToHub     = "e2e_device_to_hub"
)

// RunInfo says what ran, where and when. It never holds credentials.
type RunInfo struct {
	ID                string    `json:"id"`                 // unique run id (also the output directory's name)
	Scenario          string    `json:"scenario"`           // scenario name
	ScenarioFile      string    `json:"scenario_file"`      // path as given on the command line
	ScenarioSHA256    string    `json:"scenario_sha256"`    // hex SHA-256 of the scenario file's bytes
	FleetbenchVersion string    `json:"fleetbench_version"` // version of the binary that ran
	GoVersion         string    `json:"go_version"`         // runtime.Version()
	Started           time.Time `json:"started"`            // wall clock at run start, RFC 3339
	Ended             time.Time `json:"ended"`              // wall clock at run end, RFC 3339
	ConnectPhaseMs    float64   `json:"connect_phase_ms"`   // from start until the connect ramp finished
	PublishPhaseMs    float64   `json:"publish_phase_ms"`   // scheduling messages
	DrainPhaseMs      float64   `json:"drain_phase_ms"`     // waiting for outstanding PUBACKs and confirmations
	Target            string    `json:"target"`             // "host:port" the devices connected to
	TargetKind        string    `json:"target_kind"`        // "embedded" or "mqtt"
	Hostname          string    `json:"hostname,omitempty"` // machine that ran the generator
	// Overrides are the --set overrides of the run, in order ("path=value").
	Overrides []string `json:"overrides,omitempty"`
	// EffectiveScenario is the scenario the run used, as YAML: the file
	// with Overrides applied (scenario.Effective). Empty without overrides:
	// then it is the file itself (ScenarioSHA256).
	EffectiveScenario string `json:"effective_scenario,omitempty"`
}

// ConfigEcho repeats the load the scenario asked for, so a summary can be
// read without its scenario file.
type ConfigEcho struct {
	Devices      int         `json:"devices"`       // simulated devices
	QoS          int         `json:"qos"`           // MQTT QoS of publishes, 0 or 1
	ConnectRate  float64     `json:"connect_rate"`  // new connections per second, fleet-wide
	StartRate    float64     `json:"start_rate"`    // offered msgs/s at the start of the first stage
	Stages       []StageEcho `json:"stages"`        // offered rate ramps linearly from stage to stage
	PayloadBytes int         `json:"payload_bytes"` // bytes per message body
	MaxInFlight  int         `json:"max_in_flight"` // QoS 1 messages awaiting PUBACK per device
	DurationMs   float64     `json:"duration_ms"`   // planned publish phase
	DrainMs      float64     `json:"drain_ms"`      // planned drain grace
	LateAfterMs  float64     `json:"late_after_ms"` // a send this much after its intended time is late
	// TLSKeyExchange is the key-exchange groups devices offered, most
	// preferred first; empty over plain TCP.
	TLSKeyExchange []string `json:"tls_key_exchange,omitempty"`
}

// StageEcho is one publish stage: the offered rate moves linearly from the
// previous stage's rate (or ConfigEcho.StartRate) to Rate over DurationMs.
type StageEcho struct {
	DurationMs float64 `json:"duration_ms"`
	Rate       float64 `json:"rate"` // fleet-wide msgs/s at the end of the stage
}

// Latency summarises one latency distribution. Every value is in
// milliseconds; all are 0 when Count is 0.
type Latency struct {
	Count   int64   `json:"count"`
	MinMs   float64 `json:"min_ms"`
	MeanMs  float64 `json:"mean_ms"`
	P50Ms   float64 `json:"p50_ms"`
	P90Ms   float64 `json:"p90_ms"`
	P95Ms   float64 `json:"p95_ms"`
	P99Ms   float64 `json:"p99_ms"`
	P999Ms  float64 `json:"p99_9_ms"`
	P9999Ms float64 `json:"p99_99_ms"`
	MaxMs   float64 `json:"max_ms"`
	// OverMax counts samples above the histogram's range (60s by default),
	// recorded as the range's maximum.
	OverMax int64 `json:"over_max,omitempty"`
}

// ConnectStats are connection outcomes. Attempted = Connected + Failed
// unless attempts were still in progress at the end.
type ConnectStats struct {
	Attempted      int64            `json:"attempted"`        // attempts, first and re-
	Connected      int64            `json:"connected"`        // successful connects, including reconnects
	Failed         int64            `json:"failed"`           // failed attempts
	FailedByReason map[string]int64 `json:"failed_by_reason"` // every FailReason name, 0 included
	Reconnects     int64            `json:"reconnects"`       // connects that replaced a dropped connection
	Disconnects    int64            `json:"disconnects"`      // established connections that dropped
	// DisconnectsByReason splits Disconnects by DisconnectReason name
	// ("lost", "taken_over"), every reason present. Absent in summaries
	// written before it existed.
	DisconnectsByReason map[string]int64 `json:"disconnects_by_reason,omitempty"`
	ConnectedAtEnd      int64            `json:"connected_at_end"` // devices connected when measurement ended
	PeakConnected       int64            `json:"peak_connected"`   // most devices connected at once
	Latency             Latency          `json:"latency"`          // dial + TLS + CONNACK
}

// PublishStats are device-side publish outcomes.
type PublishStats struct {
	Due     int64 `json:"due"`     // messages whose intended send time arrived
	Sent    int64 `json:"sent"`    // written to the connection
	Acked   int64 `json:"acked"`   // PUBACK received (QoS 1)
	Failed  int64 `json:"failed"`  // of sent, the write failed: never left (write or connection error)
	Late    int64 `json:"late"`    // sent more than late_after_ms after the intended time
	Missed  int64 `json:"missed"`  // due, never sent
	Unacked int64 `json:"unacked"` // QoS 1 sent, no PUBACK by the end (failed ones excluded)
	// UnackedOnDisconnect: of Unacked, those in flight when their
	// connection ended early (dropped, or closed to renew credentials).
	UnackedOnDisconnect int64 `json:"unacked_on_disconnect"`

	LateRatio    float64 `json:"late_ratio"`    // late / sent
	MissedRatio  float64 `json:"missed_ratio"`  // missed / due
	TargetRate   float64 `json:"target_rate"`   // mean offered msgs/s over the publish phase
	AchievedRate float64 `json:"achieved_rate"` // sent_in_window / publish phase seconds
	RateRatio    float64 `json:"rate_ratio"`    // achieved_rate / target_rate
	// SentInWindow: of Sent, those sent before the publish phase ended
	// (the rest went out late, in the drain).
	SentInWindow int64 `json:"sent_in_window"`
	// FirstSendMs and LastSendMs are the first and last send, since run
	// start; SendWindowMs is the time between them: how long sending
	// really took. All 0 when nothing was sent.
	FirstSendMs  float64 `json:"first_send_ms"`
	LastSendMs   float64 `json:"last_send_ms"`
	SendWindowMs float64 `json:"send_window_ms"`

	Latency            Latency `json:"latency"`             // intended send -> PUBACK (corrected)
	LatencyUncorrected Latency `json:"latency_uncorrected"` // actual send -> PUBACK
	Lateness           Latency `json:"lateness"`            // intended send -> actual send
}

// LostMessage names one message that was acknowledged by the hub but never
// confirmed by the consumer.
type LostMessage struct {
	Device string `json:"device"` // device id
	Seq    uint64 `json:"seq"`    // the device's sequence number
}

// DeliveryStats are the end-to-end confirmation results, filled by the
// confirmation matcher through [Summary.SetDelivery].
type DeliveryStats struct {
	Confirmed          int64         `json:"confirmed"`               // distinct messages seen by the consumer
	Lost               int64         `json:"lost"`                    // expected but never seen before the drain ended
	Duplicates         int64         `json:"duplicates"`              // seen more than once (extra copies)
	Reordered          int64         `json:"reordered"`               // seen after a later message of the same device
	Foreign            int64         `json:"foreign"`                 // seen but not sent by this run
	Ratio              float64       `json:"ratio"`                   // confirmed / (confirmed + lost)
	FirstLost          []LostMessage `json:"first_lost,omitempty"`    // the first few lost messages
	ConsumerReconnects int64         `json:"consumer_reconnects"`     // consumer connection re-established
	MaxLagMs           float64       `json:"max_lag_ms"`              // largest consumer lag observed
	MaxLagMessages     int64         `json:"max_lag_messages"`        // most messages sent but not yet confirmed, sampled 20 times a second
	Latency            Latency       `json:"latency"`                 // intended send -> consumer receipt
	DeviceToHub        *Latency      `json:"device_to_hub,omitempty"` // intended send -> hub enqueue time, when the hub stamps it
}

// HubStats are counted by the hub (embedded hub, or broker statistics).
type HubStats struct {
	Received int64 `json:"received"` // publishes the hub accepted
	Dropped  int64 `json:"dropped"`  // accepted but dropped (in-flight limits)
	Refused  int64 `json:"refused"`  // connections the hub refused
	Denied   int64 `json:"denied"`   // publishes denied by topic ACL
	// Throttled counts connects refused (CONNACK 3) and connections closed
	// for the tier's limits (target.tier); TakenOver connections closed
	// for a newer one with the same device id. Absent in older summaries.
	Throttled int64 `json:"throttled,omitempty"`
	TakenOver int64 `json:"taken_over,omitempty"`
}

// Overhead is what the generator itself cost; filled by the command layer
// except HistogramMemoryBytes.
type Overhead struct {
	PeakRSSBytes         int64   `json:"peak_rss_bytes"`
	BytesPerDevice       float64 `json:"bytes_per_device"`     // RSS growth over the run / peak connected devices
	PeakRSSPerDevice     float64 `json:"peak_rss_per_device"`  // peak RSS / peak connected devices (includes the process's fixed cost)
	CPUSeconds           float64 `json:"cpu_seconds"`          // user + system
	CPUMicrosPerMessage  float64 `json:"cpu_us_per_message"`   // CPU over the publish phase / sent
	CPUMicrosPerConnect  float64 `json:"cpu_us_per_connect"`   // CPU over the connect phase / attempts in it
	SwitchesPerMessage   float64 `json:"switches_per_message"` // thread switches over the publish phase / sent
	SwitchesPerConnect   float64 `json:"switches_per_connect"` // thread switches over the connect phase / attempts in it
	GoroutinesPeak       int     `json:"goroutines_peak"`
	GCCycles             int64   `json:"gc_cycles"`
	GCCPUSeconds         float64 `json:"gc_cpu_seconds"` // the Go runtime's estimate of CPU spent collecting garbage (an overestimate)
	GOMAXPROCS           int     `json:"gomaxprocs"`
	HistogramMemoryBytes int64   `json:"histogram_memory_bytes"` // held by the recorder's histograms

	// RunCPUSeconds is the whole process's user + system CPU from the
	// run's start to its report (all phases, the embedded hub and consumer
	// when in-process): what an outside measure of the process sees.
	RunCPUSeconds float64 `json:"run_cpu_seconds,omitempty"`
	// RunCPUMicrosPerMessage is RunCPUSeconds / sent, in µs: the
	// whole-process figure beside the publish-phase CPUMicrosPerMessage.
	RunCPUMicrosPerMessage float64 `json:"run_cpu_us_per_message,omitempty"`
}

// ThresholdResult is one evaluated pass/fail criterion.
type ThresholdResult struct {
	Metric string  `json:"metric"` // metric name, e.g. "publish.p99"
	Expr   string  `json:"expr"`   // as written, e.g. "< 100ms"
	Value  float64 `json:"value"`  // the metric's value (latencies in seconds)
	Passed bool    `json:"passed"`
	// NoData is set when the run measured nothing for the metric (no
	// consumer, no samples): the threshold failed and Value is meaningless.
	NoData bool `json:"no_data,omitempty"`
}

// Point is one interval of the time series. Counts are for the interval
// only; a point's interval ends at TMs and lasts IntervalMs.
type Point struct {
	TMs           float64 `json:"t_ms"`           // end of the interval, since run start
	IntervalMs    float64 `json:"interval_ms"`    // length of the interval
	Connects      int64   `json:"connects"`       // successful connects
	ConnectFailed int64   `json:"connect_failed"` // failed connection attempts
	Disconnects   int64   `json:"disconnects"`    // dropped connections
	Connected     int64   `json:"connected"`      // gauge at the end of the interval
	Due           int64   `json:"due"`
	Sent          int64   `json:"sent"`
	Acked         int64   `json:"acked"`
	Failed        int64   `json:"failed"`
	Late          int64   `json:"late"`
	Missed        int64   `json:"missed"`
	SentRate      float64 `json:"sent_rate"`  // sent / interval seconds
	AckedRate     float64 `json:"acked_rate"` // acked / interval seconds
	// Per-interval latencies; nil (JSON null) for an interval without
	// samples, which has no percentile (never 0 ms).
	PublishP50Ms  *float64 `json:"publish_p50_ms"`  // corrected PUBACK latency of this interval's acks
	PublishP99Ms  *float64 `json:"publish_p99_ms"`  //
	PublishMaxMs  *float64 `json:"publish_max_ms"`  //
	LatenessP99Ms *float64 `json:"lateness_p99_ms"` // scheduler lateness of this interval's sends
	// Confirmed is how many messages the end-to-end consumer first
	// confirmed in this interval (sampled; absent without a consumer).
	Confirmed int64 `json:"confirmed,omitempty"`
}

// Ms converts a duration to float64 milliseconds, the unit of every _ms
// field.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

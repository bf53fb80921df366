package report

// ShardInfo is what a shard of a fleet (`fleetbench run --shard I/N`)
// records about itself in its summary.json, so that its run directory alone
// can be merged with its siblings' ([Merge]). Absent (nil) in a
// one-process run and in a merged summary.
//
// Times are integer nanoseconds: the epoch is the instant every shard's
// run starts from (its run start IS the epoch, so every offset in the
// summary — series, intervals, phases — is an offset from the epoch and
// the shards' figures align).
type ShardInfo struct {
	Index       int   `json:"index"`         // this shard, 0 <= Index < Count
	Count       int   `json:"count"`         // shards in the fleet
	EpochUnixNs int64 `json:"epoch_unix_ns"` // the fleet's shared time origin, Unix nanoseconds
	// DevicesLo and DevicesHi are the device indices this shard ran:
	// [DevicesLo, DevicesHi).
	DevicesLo int `json:"devices_lo"`
	DevicesHi int `json:"devices_hi"`
	// PublishStartOffsetNs is the planned start of the publish phase
	// (the same for every shard), since the epoch.
	PublishStartOffsetNs int64 `json:"publish_start_offset_ns"`
	// ActualPublishStartOffsetNs is when this shard's publish phase really
	// started, since the epoch (its own clock).
	ActualPublishStartOffsetNs int64 `json:"actual_publish_start_offset_ns"`
	// ScenarioSHA256 is the hex SHA-256 of the effective scenario every
	// shard must share (the file with its overrides applied).
	ScenarioSHA256 string `json:"scenario_sha256"`
	// ClockOffsetNs is this shard's clock minus its coordinator's,
	// measured at registration (the lowest round trip's midpoint), and
	// ClockRTTNs that round trip; both zero for a shard run without a
	// coordinator. End-to-end latencies are stamped on the shard's clock
	// and received on the coordinator's, so an offset shows in them.
	ClockOffsetNs int64 `json:"clock_offset_ns,omitempty"`
	ClockRTTNs    int64 `json:"clock_rtt_ns,omitempty"`
	// SentCounts is how many messages each of the shard's devices sent,
	// device DevicesLo first ([EncodeSentCounts]): a device's sequence
	// numbers 0..n-1 went out, so the coordinator's end-to-end matcher
	// knows exactly which messages were lost. "" in a shard summary of a
	// fleetbench older than the field.
	SentCounts string `json:"sent_counts,omitempty"`
}

// ShardResult is one merged shard's own figures, kept in a merged
// summary's Shards list: which devices it ran, what it cost and what went
// wrong there.
type ShardResult struct {
	Index     int    `json:"index"`
	DevicesLo int    `json:"devices_lo"` // first device index, inclusive
	DevicesHi int    `json:"devices_hi"` // last device index, exclusive
	RunID     string `json:"run_id"`     // the shard's own run id
	Hostname  string `json:"hostname,omitempty"`
	// ActualPublishStartOffsetNs: when the shard's publish phase started,
	// since the epoch.
	ActualPublishStartOffsetNs int64 `json:"actual_publish_start_offset_ns"`
	Interrupted                bool  `json:"interrupted,omitempty"`
	// ClockOffsetNs and ClockRTTNs: see [ShardInfo].
	ClockOffsetNs int64    `json:"clock_offset_ns,omitempty"`
	ClockRTTNs    int64    `json:"clock_rtt_ns,omitempty"`
	Overhead      Overhead `json:"overhead"`
	Errors        []string `json:"errors,omitempty"`
}

// MissingShard names a shard a partial merge went without.
type MissingShard struct {
	Index     int `json:"index"`
	DevicesLo int `json:"devices_lo"` // first device index, inclusive
	DevicesHi int `json:"devices_hi"` // last device index, exclusive
}

// shardRange is the device range [lo, hi) shard i of n owns in a fleet of
// devices: contiguous, sizes differing by at most one, the larger ones
// first. It must agree with fleet.ShardRange, which assigns the devices;
// it is repeated here (report must not import fleet) only to name the
// devices of a shard whose summary is missing.
func shardRange(devices, i, n int) (lo, hi int) {
	q, r := devices/n, devices%n
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

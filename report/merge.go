package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// MergeOptions change what [MergeWith] accepts.
type MergeOptions struct {
	// AllowPartial merges even when some shards of the fleet are missing:
	// the result is marked Partial and names them in MissingShards.
	// Without it a missing shard is an error.
	AllowPartial bool
}

// Merge is MergeWith(shards, MergeOptions{}): every shard must be there.
func Merge(shards []*Summary) (*Summary, error) { return MergeWith(shards, MergeOptions{}) }

// MergeWith merges the summaries of the shards of one fleet (each with a
// Shard block, written by `run --shard I/N`) into the summary of the whole
// run, as if one process had run every device. It is a pure function: it
// reads the summaries, never changes them, and does no I/O.
//
// The shards must share their scenario (Shard.ScenarioSHA256), epoch and
// shard count, and each index may appear once. Histograms, whole-run and
// per-interval, are added exactly (same settings on every shard, or an
// error; a merge that would drop a value is an error). Every offset in a
// shard's summary is from the shared epoch, so intervals and series points
// align on a grid of collection intervals (see timeGrid). Counters add;
// percentiles, rates and ratios are recomputed from the merged data, never
// averaged. Overhead is kept per shard (Shards) and totalled (see
// mergeOverhead). Errors are kept with the shard named; notes that several
// shards wrote alike are kept once, naming them.
//
// Run is the lowest shard's, with the earliest start, the latest end and
// the longest phases; Config is the scenario's, shared by the shards.
// Thresholds are not carried over: shards never judge them.
func MergeWith(shards []*Summary, opts MergeOptions) (*Summary, error) {
	shards, missing, err := checkShards(shards, opts)
	if err != nil {
		return nil, err
	}
	first := shards[0]
	out := &Summary{
		Schema:        SchemaVersion,
		Run:           mergeRunInfo(shards),
		Config:        first.Config,
		Histograms:    map[string]string{},
		Partial:       len(missing) > 0,
		MissingShards: missing,
	}
	var m histMerger
	hists, err := mergeWholeRun(&m, shards, out)
	if err != nil {
		return nil, err
	}
	g := gridOf(shards)
	ivs, err := mergeIntervals(&m, g, shards, out)
	if err != nil {
		return nil, err
	}
	series, coarse := mergeSeries(g, shards, ivs)
	out.Series = series
	if coarse {
		out.Notes = append(out.Notes, "series latency percentiles of this long run come from interval histograms that each span several points (the interval log's cap)")
	}
	out.Connect = mergeConnect(shards, hists[HistConnect])
	out.Publish = mergePublish(shards, hists, out)
	if err := mergeDelivery(shards, hists, out); err != nil {
		return nil, err
	}
	out.Hub = mergeHub(shards)
	out.Recovery = mergeRecovery(shards, hists)
	out.Overhead = mergeOverhead(shards, out)

	lo, hi := int64(0), int64(0)
	for i, s := range shards {
		at := s.Shard.ActualPublishStartOffsetNs
		if i == 0 || at < lo {
			lo = at
		}
		if i == 0 || at > hi {
			hi = at
		}
		out.Interrupted = out.Interrupted || s.Interrupted
		out.Shards = append(out.Shards, ShardResult{
			Index: s.Shard.Index, DevicesLo: s.Shard.DevicesLo, DevicesHi: s.Shard.DevicesHi,
			RunID: s.Run.ID, Hostname: s.Run.Hostname,
			ActualPublishStartOffsetNs: at, Interrupted: s.Interrupted,
			ClockOffsetNs: s.Shard.ClockOffsetNs, ClockRTTNs: s.Shard.ClockRTTNs,
			Overhead: s.Overhead, Errors: slices.Clone(s.Errors),
		})
		for _, e := range s.Errors {
			out.Errors = append(out.Errors, shardName(s)+": "+e)
		}
	}
	out.PublishStartSpreadNs = hi - lo
	for _, ms := range missing {
		out.Errors = append(out.Errors, fmt.Sprintf("shard %d/%d (devices %s) is missing: its devices are not in these figures",
			ms.Index, first.Shard.Count, deviceRange(ms.DevicesLo, ms.DevicesHi)))
	}
	out.Notes = append(out.Notes, mergeNotes(shards)...)
	return out, nil
}

// checkShards validates the set of shards and returns them sorted by
// index, with the shards missing from the fleet.
func checkShards(in []*Summary, opts MergeOptions) ([]*Summary, []MissingShard, error) {
	if len(in) == 0 {
		return nil, nil, errors.New("merge: no shard summaries given")
	}
	for i, s := range in {
		if s == nil || s.Shard == nil {
			id := ""
			if s != nil {
				id = " (run " + s.Run.ID + ")"
			}
			return nil, nil, fmt.Errorf("merge: summary %d%s has no shard block: it is not a shard's summary.json (run with --shard I/N)", i+1, id)
		}
	}
	shards := slices.Clone(in)
	slices.SortStableFunc(shards, func(a, b *Summary) int { return a.Shard.Index - b.Shard.Index })
	ref := shards[0]
	n := ref.Shard.Count
	for _, s := range shards {
		sh := s.Shard
		switch {
		case sh.ScenarioSHA256 != ref.Shard.ScenarioSHA256:
			return nil, nil, fmt.Errorf("merge: %s ran scenario %s, %s ran %s: only shards of one run merge",
				shardName(s), short(sh.ScenarioSHA256), shardName(ref), short(ref.Shard.ScenarioSHA256))
		case sh.EpochUnixNs != ref.Shard.EpochUnixNs:
			return nil, nil, fmt.Errorf("merge: %s started from epoch %d ns, %s from %d ns: only shards of one run merge",
				shardName(s), sh.EpochUnixNs, shardName(ref), ref.Shard.EpochUnixNs)
		case sh.Count != n:
			return nil, nil, fmt.Errorf("merge: %s is one of %d shards, %s one of %d: only shards of one run merge",
				shardName(s), sh.Count, shardName(ref), n)
		case sh.Index < 0 || sh.Index >= n:
			return nil, nil, fmt.Errorf("merge: %s has index %d, outside 0..%d", shardName(s), sh.Index, n-1)
		}
	}
	for i := 1; i < len(shards); i++ {
		if a, b := shards[i-1], shards[i]; a.Shard.Index == b.Shard.Index {
			return nil, nil, fmt.Errorf("merge: shard %d/%d given twice (runs %s and %s): give each shard's directory once",
				a.Shard.Index, n, a.Run.ID, b.Run.ID)
		}
	}
	var missing []MissingShard
	have := 0
	for i := range n {
		if have < len(shards) && shards[have].Shard.Index == i {
			have++
			continue
		}
		lo, hi := shardRange(ref.Config.Devices, i, n)
		missing = append(missing, MissingShard{Index: i, DevicesLo: lo, DevicesHi: hi})
	}
	if len(missing) > 0 && !opts.AllowPartial {
		var names []string
		for _, ms := range missing {
			names = append(names, fmt.Sprintf("%d (devices %s)", ms.Index, deviceRange(ms.DevicesLo, ms.DevicesHi)))
		}
		return nil, nil, fmt.Errorf("merge: %d of %d shards missing: %s; give every shard's directory, or allow a partial merge",
			len(missing), n, strings.Join(names, ", "))
	}
	return shards, missing, nil
}

// shardName names a shard in errors and notes: "shard 2/4 (devices 500-749)".
func shardName(s *Summary) string {
	if s.Shard == nil {
		return "run " + s.Run.ID
	}
	return fmt.Sprintf("shard %d/%d (devices %s)", s.Shard.Index, s.Shard.Count, deviceRange(s.Shard.DevicesLo, s.Shard.DevicesHi))
}

// deviceRange writes [lo, hi) as inclusive indices, "500-749".
func deviceRange(lo, hi int) string {
	if hi <= lo {
		return "none"
	}
	return fmt.Sprintf("%d-%d", lo, hi-1)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(unknown)"
	}
	return sha
}

func mergeRunInfo(shards []*Summary) RunInfo {
	r := shards[0].Run
	var hosts []string
	for _, s := range shards {
		if !s.Run.Started.IsZero() && (r.Started.IsZero() || s.Run.Started.Before(r.Started)) {
			r.Started = s.Run.Started
		}
		if s.Run.Ended.After(r.Ended) {
			r.Ended = s.Run.Ended
		}
		r.ConnectPhaseMs = max(r.ConnectPhaseMs, s.Run.ConnectPhaseMs)
		r.PublishPhaseMs = max(r.PublishPhaseMs, s.Run.PublishPhaseMs)
		r.DrainPhaseMs = max(r.DrainPhaseMs, s.Run.DrainPhaseMs)
		if h := s.Run.Hostname; h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	r.Hostname = strings.Join(hosts, ",")
	return r
}

func mergeConnect(shards []*Summary, h *hdrhistogram.Histogram) ConnectStats {
	c := ConnectStats{FailedByReason: map[string]int64{}}
	var over int64
	for _, s := range shards {
		x := s.Connect
		c.Attempted += x.Attempted
		c.Connected += x.Connected
		c.Failed += x.Failed
		c.Reconnects += x.Reconnects
		c.Disconnects += x.Disconnects
		c.ConnectedAtEnd += x.ConnectedAtEnd
		c.PeakConnected += x.PeakConnected // each shard's peak: an upper bound of the fleet's
		over += x.Latency.OverMax
		addCounts(c.FailedByReason, x.FailedByReason)
		if x.DisconnectsByReason != nil {
			if c.DisconnectsByReason == nil {
				c.DisconnectsByReason = map[string]int64{}
			}
			addCounts(c.DisconnectsByReason, x.DisconnectsByReason)
		}
	}
	c.Latency = latencyOf(h, over)
	return c
}

func addCounts(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

func mergePublish(shards []*Summary, hists map[string]*hdrhistogram.Histogram, out *Summary) PublishStats {
	var p PublishStats
	var overP, overU, overL int64
	sending := false
	for _, s := range shards {
		x := s.Publish
		p.Due += x.Due
		p.Sent += x.Sent
		p.Acked += x.Acked
		p.Failed += x.Failed
		p.Late += x.Late
		p.Missed += x.Missed
		p.Unacked += x.Unacked
		p.UnackedOnDisconnect += x.UnackedOnDisconnect
		p.SentInWindow += x.SentInWindow
		overP += x.Latency.OverMax
		overU += x.LatencyUncorrected.OverMax
		overL += x.Lateness.OverMax
		if x.Sent > 0 {
			if !sending || x.FirstSendMs < p.FirstSendMs {
				p.FirstSendMs = x.FirstSendMs
			}
			p.LastSendMs = max(p.LastSendMs, x.LastSendMs)
			sending = true
		}
	}
	p.SendWindowMs = p.LastSendMs - p.FirstSendMs
	publishMs := out.Run.PublishPhaseMs
	if publishMs <= 0 && len(out.Series) > 0 {
		publishMs = out.Series[len(out.Series)-1].TMs
	}
	p.setRates(out.Config, publishMs)
	p.Latency = latencyOf(hists[HistPublish], overP)
	p.LatencyUncorrected = latencyOf(hists[HistPublishUncorrected], overU)
	p.Lateness = latencyOf(hists[HistLateness], overL)
	return p
}

// mergeDelivery adds up the shards' end-to-end results (each shard's own
// consumer, if it ran one): counts add, the largest lag is the largest of
// any shard, the lag in messages adds (each shard's maximum: an upper bound).
func mergeDelivery(shards []*Summary, hists map[string]*hdrhistogram.Histogram, out *Summary) error {
	var d DeliveryStats
	seen := false
	for _, s := range shards {
		x := s.Delivery
		if x == nil {
			continue
		}
		seen = true
		d.Confirmed += x.Confirmed
		d.Lost += x.Lost
		d.Duplicates += x.Duplicates
		d.Reordered += x.Reordered
		d.Foreign += x.Foreign
		d.FirstLost = append(d.FirstLost, x.FirstLost...)
		d.ConsumerReconnects += x.ConsumerReconnects
		d.MaxLagMs = max(d.MaxLagMs, x.MaxLagMs)
		d.MaxLagMessages += x.MaxLagMessages
		d.Latency.OverMax += x.Latency.OverMax
		if x.DeviceToHub != nil {
			if d.DeviceToHub == nil {
				d.DeviceToHub = &Latency{}
			}
			d.DeviceToHub.OverMax += x.DeviceToHub.OverMax
		}
	}
	if !seen {
		return nil
	}
	return out.SetDelivery(d, hists[HistE2E], hists[HistE2EDeviceToHub])
}

func mergeHub(shards []*Summary) *HubStats {
	var h *HubStats
	for _, s := range shards {
		if s.Hub == nil {
			continue
		}
		if h == nil {
			h = &HubStats{}
		}
		h.Received += s.Hub.Received
		h.Dropped += s.Hub.Dropped
		h.Refused += s.Hub.Refused
		h.Denied += s.Hub.Denied
		h.Throttled += s.Hub.Throttled
		h.TakenOver += s.Hub.TakenOver
	}
	return h
}

// mergeNotes keeps each distinct note once, naming the shards that wrote
// it when not all did.
func mergeNotes(shards []*Summary) []string {
	by := map[string][]int{}
	var order []string
	for _, s := range shards {
		for _, n := range s.Notes {
			if _, ok := by[n]; !ok {
				order = append(order, n)
			}
			if idx := by[n]; len(idx) == 0 || idx[len(idx)-1] != s.Shard.Index {
				by[n] = append(idx, s.Shard.Index)
			}
		}
	}
	var out []string
	for _, n := range order {
		idx := by[n]
		if len(idx) == len(shards) {
			out = append(out, n)
			continue
		}
		names := make([]string, len(idx))
		for i, x := range idx {
			names[i] = fmt.Sprint(x)
		}
		out = append(out, fmt.Sprintf("shard %s: %s", strings.Join(names, ", "), n))
	}
	return out
}

package report

// mergeOverhead totals the shards' overhead as if they were one process
// spread over several: CPU, GC, histogram memory and peak RSS add (the
// peak RSS of all shard processes together: an upper bound, their peaks
// need not coincide); per-device memory is that total over the fleet's
// peak connected devices (out.Connect.PeakConnected, the shards' peaks
// added); per-message CPU and switches are the shards' publish-phase
// figures weighted by their sent messages (exact: each is its shard's
// total over its sent), per-connect ones weighted by their connect
// attempts (exact when every attempt fell in the connect phase);
// goroutines add; GOMAXPROCS is the largest of any shard.
func mergeOverhead(shards []*Summary, out *Summary) Overhead {
	var o Overhead
	var growth, cpuPub, swPub, cpuConn, swConn float64
	for _, s := range shards {
		x := s.Overhead
		sent, attempts := float64(s.Publish.Sent), float64(s.Connect.Attempted)
		o.PeakRSSBytes += x.PeakRSSBytes
		o.CPUSeconds += x.CPUSeconds
		o.RunCPUSeconds += x.RunCPUSeconds
		o.GoroutinesPeak += x.GoroutinesPeak
		o.GCCycles += x.GCCycles
		o.GCCPUSeconds += x.GCCPUSeconds
		o.HistogramMemoryBytes += x.HistogramMemoryBytes
		o.GOMAXPROCS = max(o.GOMAXPROCS, x.GOMAXPROCS)
		growth += x.BytesPerDevice * float64(s.Connect.PeakConnected)
		cpuPub += x.CPUMicrosPerMessage * sent
		swPub += x.SwitchesPerMessage * sent
		cpuConn += x.CPUMicrosPerConnect * attempts
		swConn += x.SwitchesPerConnect * attempts
	}
	if peak := float64(out.Connect.PeakConnected); peak > 0 {
		o.BytesPerDevice = growth / peak
		o.PeakRSSPerDevice = float64(o.PeakRSSBytes) / peak
	}
	if sent := float64(out.Publish.Sent); sent > 0 {
		o.CPUMicrosPerMessage = cpuPub / sent
		o.SwitchesPerMessage = swPub / sent
		o.RunCPUMicrosPerMessage = o.RunCPUSeconds * 1e6 / sent
	}
	if n := float64(out.Connect.Attempted); n > 0 {
		o.CPUMicrosPerConnect = cpuConn / n
		o.SwitchesPerConnect = swConn / n
	}
	return o
}

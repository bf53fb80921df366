package report

// recoveryMetrics are the metric table's rows about deliberate drops and
// recovery (scenario churn and storm). The latency families reconnect and
// recovery are in latencyFamilies.
var recoveryMetrics = []MetricDef{
	{Name: "devices.dropped", Kind: KindCount, Unit: "connections", Doc: "connections the run closed on purpose (churn, storm)",
		Read: always(func(s *Summary) float64 { return float64(recoveryOf(s).Dropped) })},
	{Name: "recovery.time", Kind: KindLatency, Unit: "s", Doc: "from a storm's instant until every device it dropped was back (the longest storm); no value unless all were back",
		Read: func(s *Summary) (float64, bool) { return s.Recovery.RecoveryTime() }},
	{Name: "recovery.refused", Kind: KindCount, Unit: "connections", Doc: "attempts of dropped devices to come back that the hub refused (CONNACK 1, 2, 4, 5)",
		Read: always(func(s *Summary) float64 { return float64(recoveryOf(s).Refused) })},
	{Name: "recovery.throttled", Kind: KindCount, Unit: "connections", Doc: "attempts of dropped devices to come back that the hub throttled (CONNACK 3)",
		Read: always(func(s *Summary) float64 { return float64(recoveryOf(s).Throttled) })},
}

// recoveryOf is s.Recovery, or an empty one for a run that dropped nothing.
func recoveryOf(s *Summary) *RecoveryStats {
	if s.Recovery == nil {
		return &RecoveryStats{}
	}
	return s.Recovery
}

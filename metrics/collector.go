package metrics

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fleetbench/fleetbench/report"
)

// Labels identify a run's series; every metric of a [Collector] carries
// them as constant labels run, scenario and shard.
type Labels struct {
	Run      string // the run id (its directory's name)
	Scenario string // the scenario's name
	// Shard is the shard's index for a shard process, and "all" for a
	// one-process run or a coordinator's fleet-wide figures, so that a
	// sum over shards never counts a fleet twice.
	Shard string
}

// ShardAll is Labels.Shard for figures that cover the whole fleet.
const ShardAll = "all"

func (l Labels) constLabels() prometheus.Labels {
	return prometheus.Labels{"run": l.Run, "scenario": l.Scenario, "shard": l.Shard}
}

// counter is one counter family read from the report's metric table: its
// name there (the row's Live reader gives the value, its Doc the help).
type counter struct {
	name string // Prometheus name
	row  string // report metric table row
}

// counters are the plain counters, one a row of report.Metrics().
var counters = []counter{
	{"fleetbench_connect_attempts_total", "connect.attempted"},
	{"fleetbench_connects_total", "connect.connected"},
	{"fleetbench_reconnects_total", "devices.reconnects"},
	{"fleetbench_messages_due_total", "publish.due"},
	{"fleetbench_messages_sent_total", "publish.sent"},
	{"fleetbench_messages_sent_in_window_total", "publish.sent_in_window"},
	{"fleetbench_messages_acked_total", "publish.acked"},
	{"fleetbench_messages_failed_total", "publish.failed"},
	{"fleetbench_messages_late_total", "publish.late"},
	{"fleetbench_messages_missed_total", "publish.missed"},
	{"fleetbench_messages_unacked_on_disconnect_total", "publish.unacked_on_disconnect"},
}

// latency is one histogram family: the source's family it converts.
type latency struct {
	name, family, help string
}

var latencies = []latency{
	{"fleetbench_connect_duration_seconds", report.HistConnect,
		"time to connect: dial, TLS handshake and CONNACK, in seconds (summary: connect.latency)"},
	{"fleetbench_publish_latency_seconds", report.HistPublish,
		"PUBACK latency from each message's intended send time, corrected for coordinated omission, in seconds (summary: publish.latency)"},
	{"fleetbench_publish_latency_uncorrected_seconds", report.HistPublishUncorrected,
		"PUBACK latency from each message's actual send, in seconds (summary: publish.latency_uncorrected)"},
	{"fleetbench_publish_lateness_seconds", report.HistLateness,
		"how long after its intended time each message was sent, in seconds (summary: publish.lateness)"},
	{"fleetbench_e2e_latency_seconds", report.HistE2E,
		"end-to-end latency, intended send to the consumer's receipt, first arrivals, in seconds (summary: delivery.latency)"},
}

// Collector is a prometheus.Collector that reads a [Source] at each
// scrape and reports its figures as constant metrics (docs/metrics.md):
// recording costs nothing more with it. Safe for concurrent scrapes.
type Collector struct {
	src    Source
	labels Labels

	counters        []*prometheus.Desc // by counters' index
	failures        *prometheus.Desc   // label reason
	disconnects     *prometheus.Desc   // label reason
	connected, peak *prometheus.Desc
	unacked         *prometheus.Desc
	confirmed, dups *prometheus.Desc
	lost            *prometheus.Desc
	latencies       map[string]*prometheus.Desc // by source family
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector reads src; every metric carries labels l.
func NewCollector(src Source, l Labels) *Collector {
	cl := l.constLabels()
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, cl)
	}
	c := &Collector{
		src:         src,
		labels:      l,
		failures:    desc("fleetbench_connect_failures_total", "failed connection attempts, by reason (refused_auth, refused_throttled, refused_other, tls, timeout, network, other)", "reason"),
		disconnects: desc("fleetbench_disconnects_total", "established connections that dropped, by reason (lost, taken_over, throttled, token_expired, timeout)", "reason"),
		connected:   desc("fleetbench_devices_connected", "devices connected now"),
		peak:        desc("fleetbench_devices_connected_peak", "the most devices connected at once so far"),
		unacked:     desc("fleetbench_messages_unacked", "QoS 1 messages sent and neither acknowledged nor failed: in flight during the run, unanswered at its end"),
		confirmed:   desc("fleetbench_messages_confirmed_total", "distinct messages the end-to-end consumer received"),
		dups:        desc("fleetbench_messages_duplicated_total", "extra copies of messages the end-to-end consumer had already received"),
		lost:        desc("fleetbench_messages_lost_total", "messages sent that the end-to-end consumer never received; present once the drain has ended"),
		latencies:   map[string]*prometheus.Desc{},
	}
	for _, k := range counters {
		row, ok := report.LookupMetric(k.row)
		if !ok || row.Live == nil {
			panic("metrics: " + k.row + " is not a live row of report's metric table") // a programming error, caught by every test
		}
		c.counters = append(c.counters, desc(k.name, row.Doc+" (summary: "+k.row+")"))
	}
	for _, lt := range latencies {
		c.latencies[lt.family] = desc(lt.name, lt.help)
	}
	return c
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{c.failures, c.disconnects, c.connected, c.peak, c.unacked, c.confirmed, c.dups, c.lost} {
		ch <- d
	}
	for _, lt := range latencies {
		ch <- c.latencies[lt.family]
	}
}

// Collect reads the source once and sends its figures.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	t := c.src.Totals()
	for i, k := range counters {
		row, _ := report.LookupMetric(k.row)
		ch <- prometheus.MustNewConstMetric(c.counters[i], prometheus.CounterValue, row.Live(t))
	}
	for r := range report.NumFailReasons {
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(t.FailedBy[r]), r.String())
	}
	for r := range report.NumDisconnectReasons {
		ch <- prometheus.MustNewConstMetric(c.disconnects, prometheus.CounterValue, float64(t.DisconnectsBy[r]), r.String())
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, float64(t.Connected))
	ch <- prometheus.MustNewConstMetric(c.peak, prometheus.GaugeValue, float64(t.PeakConnected))
	ch <- prometheus.MustNewConstMetric(c.unacked, prometheus.GaugeValue, float64(t.Unacked()))
	if d, ok := c.src.Delivery(); ok {
		ch <- prometheus.MustNewConstMetric(c.confirmed, prometheus.CounterValue, float64(d.Confirmed))
		ch <- prometheus.MustNewConstMetric(c.dups, prometheus.CounterValue, float64(d.Duplicates))
		if d.LostKnown {
			ch <- prometheus.MustNewConstMetric(c.lost, prometheus.CounterValue, float64(d.Lost))
		}
	}
	c.src.VisitLatencies(func(family string, h *hdrhistogram.Histogram) {
		desc, ok := c.latencies[family]
		if !ok {
			return // a family this collector does not export
		}
		m, err := histogramMetric(desc, h)
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, fmt.Errorf("metrics: %s: %w", family, err))
		}
		ch <- m
	})
}

package scenario

import (
	"fmt"
	"strconv"
	"time"
)

// What one publish costs, from the measured figures in docs/benchmarks.md
// ("Against the design of other Go load generators", 2-vCPU reference
// machine, QoS 0 over TLS to mosquitto, 2,000 devices). These are floors:
// the cheapest a publish has ever been measured, so a rate beyond what they
// allow cannot be sent, and a rate below may still not be.
const (
	// publishCPU is the generator's own CPU per publish sent back to back
	// with no pacing, the least it ever costs (9.6–11.1 µs measured).
	publishCPU = 9600 * time.Nanosecond
	// publishCPUWithBroker is the generator's, the broker's and the
	// kernel's CPU per publish together, saturating (14.3–14.8 µs
	// measured): what a publish costs the machine when the broker runs on
	// it too, as the embedded hub does.
	publishCPUWithBroker = 14300 * time.Nanosecond
	// loopbackPubackP99 is the PUBACK round trip p99 the bench run measured
	// on loopback (bench/results.json, QoS 1, 5,000/s over 2,000 devices,
	// `fleetbench hub` on the same machine): 2.505 ms.
	loopbackPubackP99 = 2505 * time.Microsecond
	// absurdFactor: a rate this many times beyond what can be sent is not
	// a plan but a typo (1e9/s), and is an error rather than a warning.
	absurdFactor = 10
)

// rates warns when the schedule's peak rate is beyond what this machine
// (h.CPUs processors) or one device's connection can send, or beyond what
// the QoS 1 in-flight window lets a device send on loopback; a rate
// absurdFactor times beyond what can be sent is an error. Every message
// states the figure and where it comes from.
func (c *hostCheck) rates() {
	if c.h.CPUs <= 0 {
		return
	}
	pb, dv := c.s.Publish, c.s.Devices
	// Stages ramp linearly, so the peak is at a stage's end or the start.
	var peak float64
	path := "publish.stages"
	for i, st := range pb.Stages {
		if st.Rate > peak {
			peak, path = st.Rate, fmt.Sprintf("publish.stages[%d]", i)
			if _, ok := c.s.positions[path+".interval"]; ok {
				path += ".interval"
			} else {
				path += ".rate"
			}
		}
	}
	if pb.StartRate > peak {
		peak, path = pb.StartRate, "publish.start_rate"
	}
	if peak <= 0 {
		return
	}
	perDevice := peak / float64(dv.Count)

	cost, costNote := publishCPU, "a publish costs the generator at least 9.6 µs of CPU"
	if c.s.Target.Kind == TargetEmbedded {
		cost, costNote = publishCPUWithBroker, "with the embedded hub on the same processors a publish costs at least 14.3 µs of CPU"
	}
	machine := float64(c.h.CPUs) * float64(time.Second) / float64(cost)
	device := float64(time.Second) / float64(publishCPU)
	source := "(measured floor, docs/benchmarks.md)"
	over := true
	switch {
	case peak > machine:
		msg := fmt.Sprintf("the peak rate %s is beyond what this machine can send: %s %s, so %d processor(s) send at most about %s",
			FormatRate(peak), costNote, source, c.h.CPUs, FormatRate(roundRate(machine)))
		c.over(path, peak/machine, msg, "lower the rate, or shard the fleet over machines (devices.first_index)")
	case perDevice > device:
		msg := fmt.Sprintf("each device would send %s, beyond what one connection can: its messages are written one after another and a write costs at least 9.6 µs of CPU %s, so a device sends at most about %s",
			FormatRate(roundRate(perDevice)), source, FormatRate(roundRate(device)))
		c.over(path, perDevice/device, msg, "lower the rate or add devices")
	default:
		over = false
	}
	if pb.QoS == 1 && !over {
		window := time.Duration(float64(pb.MaxInFlight) / perDevice * float64(time.Second))
		if window < loopbackPubackP99 {
			c.warn(path, fmt.Sprintf("with qos 1 and max_in_flight %d a device sending %s needs every PUBACK within %v, but on loopback the PUBACK p99 was %v (bench/results.json): sends will wait for the window and count late or missed; raise publish.max_in_flight",
				pb.MaxInFlight, FormatRate(roundRate(perDevice)), window.Round(time.Microsecond), loopbackPubackP99))
		}
	}
}

// over reports a rate factor times beyond what can be sent: a warning, or
// an error when it is absurd.
func (c *hostCheck) over(path string, factor float64, msg, fix string) {
	if factor >= absurdFactor {
		c.fail(path, msg, fix)
		return
	}
	c.warn(path, msg)
}

// roundRate keeps three significant figures of a derived rate, so that a
// message reads 104000/s rather than 104166.66666666667/s.
func roundRate(r float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(r, 'g', 3, 64), 64)
	return v
}

package scenario

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Devices and connect defaults.
const (
	DefaultDeviceID       = "sim-{index:06}"
	DefaultConnectRate    = 100.0 // per second; IoT Hub S1's floor for new connections
	DefaultConnectTimeout = 10 * time.Second
	DefaultKeepAlive      = 60 * time.Second
	DefaultConnectFlight  = 64

	// MaxDevices is the largest fleet one scenario describes; shard larger
	// fleets over processes with devices.first_index.
	MaxDevices = 10_000_000
	// maxIndex: a stamp carries the device index in 32 bits.
	maxIndex = math.MaxUint32
	// maxIDLen is IoT Hub's limit on device ids.
	maxIDLen = 128
	// azureKeepAliveMax is the largest keep-alive IoT Hub honours (it caps
	// its own time-out at 1.5x the client's, up to 29.45 min).
	azureKeepAliveMax = 1177 * time.Second
)

// iotHubIDChars are the characters IoT Hub allows in a device id besides
// ASCII letters and digits.
const iotHubIDChars = "-.%_*?!(),:=@$'"

func (d *decoder) decodeDevices(n *node, dv *Devices) {
	d.object(n, "devices", devicesKeys, func(key string, v *node, p string) {
		switch key {
		case "count":
			dv.Count, _ = d.integer(v, p, 1, MaxDevices)
		case "id":
			dv.ID, d.idSegs, _ = d.template(v, p, IDFields)
		case "first_index":
			dv.FirstIndex, _ = d.integer(v, p, 0, maxIndex)
		}
	})
}

// finishDevices applies the fleet defaults and checks the id template.
func (d *decoder) finishDevices(dv *Devices, a *Auth) {
	if !d.has("devices.count") {
		if !d.given("devices.count") {
			d.failKey("devices.count", "the number of devices is required", "add devices.count, e.g. `devices: {count: 100}`")
		}
		dv.Count = 1 // lets the other checks run
	}
	if !d.has("devices.id") {
		dv.ID = DefaultDeviceID
		d.idSegs, _ = ParseTemplate(dv.ID, IDFields...)
	}
	if last := dv.FirstIndex + dv.Count - 1; last > maxIndex {
		d.fail("devices.first_index", fmt.Sprintf("the last device's index %d does not fit in 32 bits", last),
			fmt.Sprintf("keep first_index + count - 1 at most %d", maxIndex))
	}
	if !d.has("devices.id") && d.given("devices.id") {
		return
	}
	if dv.Count > 1 && !HasField(d.idSegs, FieldIndex) {
		d.fail("devices.id", fmt.Sprintf("every device would get the id %s", show(dv.ID)),
			`add {index} to the template, e.g. "sim-{index:06}"`)
		return
	}
	longest := Expand(d.idSegs, "", dv.FirstIndex+dv.Count-1)
	for _, s := range d.idSegs {
		if s.Field != "" {
			continue
		}
		if i := strings.IndexAny(s.Literal, "/+#\x00 \t\n"); i >= 0 {
			d.fail("devices.id", fmt.Sprintf("device ids cannot contain %q: they are part of MQTT topics", s.Literal[i]),
				"use letters, digits and -._ in the template")
			return
		}
		if a.Type == AuthAzureSAS {
			for _, r := range s.Literal {
				if !(r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(iotHubIDChars, r))) {
					d.fail("devices.id", fmt.Sprintf("IoT Hub device ids cannot contain %q", r),
						"use ASCII letters, digits and "+iotHubIDChars)
					return
				}
			}
		}
	}
	if len(longest) > maxIDLen && a.Type == AuthAzureSAS {
		d.fail("devices.id", fmt.Sprintf("device id %s is %d bytes; IoT Hub allows %d", show(longest), len(longest), maxIDLen),
			"shorten the template")
	}
}

func (d *decoder) decodeConnect(n *node, c *Connect) {
	d.object(n, "connect", connectKeys, func(key string, v *node, p string) {
		switch key {
		case "rate":
			c.Rate, _ = d.rate(v, p, 0, true)
		case "max_in_flight":
			c.MaxInFlight, _ = d.integer(v, p, 1, 100_000)
		case "timeout":
			c.Timeout, _ = d.duration(v, p, time.Millisecond, 10*time.Minute)
		case "keep_alive":
			c.KeepAlive, _ = d.duration(v, p, 0, 65535*time.Second)
		case "clean_session":
			c.CleanSession, _ = d.boolean(v, p)
		case "reconnect":
			d.decodeReconnect(v, p, c)
		case "source_addresses":
			c.SourceAddresses = d.sourceAddresses(v, p)
		}
	})
}

// finishConnect applies the connect defaults and checks the keep-alive.
func (d *decoder) finishConnect(c *Connect, a *Auth) {
	if !d.has("connect.rate") {
		c.Rate = DefaultConnectRate
	}
	if !d.has("connect.max_in_flight") {
		c.MaxInFlight = DefaultConnectFlight
	}
	if !d.has("connect.timeout") {
		c.Timeout = DefaultConnectTimeout
	}
	if !d.has("connect.clean_session") {
		c.CleanSession = true
	}
	if !d.has("connect.reconnect") {
		c.Reconnect = true
	}
	d.finishBackoff(c)
	if !d.has("connect.keep_alive") {
		c.KeepAlive = DefaultKeepAlive
		return
	}
	if c.KeepAlive%time.Second != 0 {
		d.fail("connect.keep_alive", fmt.Sprintf("%v is not whole seconds (MQTT keep-alive is in seconds)", c.KeepAlive),
			fmt.Sprintf("use %v", c.KeepAlive.Round(time.Second)))
		return
	}
	switch {
	case a.Type == AuthAliyun && (c.KeepAlive < 30*time.Second || c.KeepAlive > 1200*time.Second):
		d.fail("connect.keep_alive", "Alibaba Cloud IoT accepts a keep-alive of 30s to 1200s", "use a keep-alive from 30s to 20m")
	case a.Type == AuthAzureSAS && c.KeepAlive > azureKeepAliveMax:
		d.warn("connect.keep_alive", fmt.Sprintf("IoT Hub caps its time-out, so a keep-alive over %v does not help", azureKeepAliveMax))
	}
}

package scenario

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/hub/tier"
)

// Default ports of an MQTT target.
const (
	DefaultPortTLS   = 8883
	DefaultPortPlain = 1883
)

// embeddedHost is where the embedded hub listens.
const embeddedHost = "127.0.0.1"

func (d *decoder) decodeTarget(n *node, t *Target) {
	d.object(n, "target", targetKeys, func(key string, v *node, p string) {
		switch key {
		case "kind":
			t.Kind, _ = d.enum(v, p, TargetEmbedded, TargetMQTT)
		case "host":
			t.Host, _ = d.host(v, p)
		case "port":
			t.Port, _ = d.integer(v, p, 1, 65535)
		case "endpoints":
			t.Endpoints = d.endpoints(v, p)
		case "tls":
			d.decodeTLS(v, p, &t.TLS)
		case "ack_delay":
			t.AckDelay, _ = d.duration(v, p, 0, time.Minute)
		case "tier":
			t.Tier, _ = d.enum(v, p, tier.Names()...)
		case "units":
			t.Units, _ = d.integer(v, p, 1, 1_000_000)
		case "sends_per_second":
			t.SendsPerSecond, _ = d.rate(v, p, 0, true)
		}
	})
}

// decodeTLS reads `tls: false`, `tls: true` or a mapping of TLS settings.
func (d *decoder) decodeTLS(v *node, p string, t *TLS) {
	if v.kind == kScalar && v.typ == tBool {
		t.Enabled = v.text == "true"
		return
	}
	if v.kind != kMap {
		d.report(v.pos, p, "want a mapping of TLS settings or false, got "+v.describe(),
			"write `tls: false` for plain TCP, or keys such as ca_file below tls")
		return
	}
	t.Enabled = true
	d.object(v, p, tlsKeys, func(key string, v *node, p string) {
		switch key {
		case "ca_file":
			t.CAFile, _ = d.filePath(v, p)
		case "server_name":
			t.ServerName, _ = d.host(v, p)
		case "insecure_skip_verify":
			t.InsecureSkipVerify, _ = d.boolean(v, p)
		case "cert_file":
			t.CertFile, _ = d.filePath(v, p)
		case "key_file":
			t.KeyFile, _ = d.filePath(v, p)
		case "session_resumption":
			t.SessionResumption, _ = d.boolean(v, p)
		case "key_exchange":
			t.KeyExchange = d.keyExchange(v, p)
		}
	})
}

// keyExchange decodes a list of key-exchange groups (or one group), each
// named once.
func (d *decoder) keyExchange(v *node, p string) []string {
	items := []*node{v}
	if v.kind == kSeq {
		items = v.items
		if len(items) == 0 {
			d.report(v.pos, p, "is empty", "name at least one group, e.g. [p256] or [x25519, p256]")
			return nil
		}
	}
	var out []string
	for i, item := range items {
		ip := p
		if v.kind == kSeq {
			ip = fmt.Sprintf("%s[%d]", p, i)
		}
		g, ok := d.enum(item, ip, KeyExchanges...)
		if !ok {
			continue
		}
		if contains(out, g) {
			d.report(item.pos, ip, g+" is listed twice", "name each group once")
			continue
		}
		out = append(out, g)
	}
	return out
}

// host decodes a bare host name or IP address.
func (d *decoder) host(v *node, p string) (string, bool) {
	s, ok := d.nonEmpty(v, p)
	if !ok {
		return "", false
	}
	switch {
	case strings.Contains(s, "://"):
		d.report(v.pos, p, "is a URL, not a host name", "write the host name only, e.g. myhub.azure-devices.net; the port goes in target.port")
		return "", false
	case strings.ContainsAny(s, " /\t"):
		d.report(v.pos, p, "is not a host name", "write a host name or IP address, e.g. 127.0.0.1")
		return "", false
	case strings.Contains(s, ":") && net.ParseIP(s) == nil:
		d.report(v.pos, p, "has a port in it", "write the host name only and the port in target.port")
		return "", false
	}
	return s, true
}

// finishTarget applies the target's defaults and checks it.
func (d *decoder) finishTarget(t *Target) {
	d.finishTier(t)
	if !d.has("target.kind") {
		t.Kind = TargetEmbedded
	}
	tlsOff := d.has("target.tls") && !t.TLS.Enabled
	if t.Kind == TargetEmbedded {
		for _, k := range []string{"host", "port"} {
			if d.given("target." + k) {
				d.failKey("target."+k, "the embedded hub listens on 127.0.0.1 at a port chosen when it starts",
					"remove target."+k+", or set target.kind: mqtt to use another broker (e.g. one started with `fleetbench hub`)")
			}
		}
		if d.given("target.endpoints") {
			d.failKey("target.endpoints", "the embedded hub is one endpoint, started by fleetbench at a port chosen when it starts",
				"remove target.endpoints; to spread devices over several hubs, start each with `fleetbench hub --addr 127.0.0.1:PORT` and list them here with target.kind: mqtt")
		}
		if tlsOff {
			d.fail("target.tls", "the embedded hub accepts TLS connections only, like IoT Hub", "remove `tls: false`")
		}
		for _, k := range []string{"ca_file", "server_name", "insecure_skip_verify", "cert_file", "key_file"} {
			if d.given("target.tls." + k) {
				d.failKey("target.tls."+k, "the embedded hub's own CA is trusted automatically",
					"remove target.tls."+k+" (only session_resumption and key_exchange apply to the embedded hub)")
			}
		}
		t.Host, t.Port = embeddedHost, 0
		t.TLS.Enabled = true
	} else {
		if !d.given("target.host") && !d.given("target.endpoints") {
			d.failKey("target.host", "an mqtt target needs a host", "add target.host, e.g. myhub.azure-devices.net or 127.0.0.1 (or target.endpoints: [host:port, ...] for several)")
		}
		if d.given("target.ack_delay") {
			d.failKey("target.ack_delay", "only the embedded hub can delay acknowledgements", "remove target.ack_delay or use target.kind: embedded")
		}
		if !d.given("target.tls") {
			t.TLS.Enabled = true
		}
		if !d.given("target.port") {
			t.Port = DefaultPortTLS
			if !t.TLS.Enabled {
				t.Port = DefaultPortPlain
			}
		}
		d.finishEndpoints(t)
	}
	if t.TLS.Enabled && !d.given("target.tls.key_exchange") {
		t.TLS.KeyExchange = slices.Clone(DefaultKeyExchange)
	}
	if t.TLS.Enabled && !d.has("target.tls.server_name") {
		t.TLS.ServerName = t.Host
	}
	if tlsOff {
		d.warn("target.tls", "plain TCP: credentials and messages travel unencrypted")
	}
	if t.TLS.InsecureSkipVerify {
		d.warn("target.tls.insecure_skip_verify", "the broker's certificate is not verified: anyone on the path can impersonate it")
	}
	if d.given("target.tls.cert_file") != d.given("target.tls.key_file") {
		missing := "target.tls.key_file"
		if !d.given("target.tls.cert_file") {
			missing = "target.tls.cert_file"
		}
		d.failKey(missing, "a client certificate needs both cert_file and key_file", fmt.Sprintf("add %s", missing))
	}
}

// finishTier checks target.tier and target.units: units need a tier, and
// the tier must allow that many.
func (d *decoder) finishTier(t *Target) {
	if d.given("target.sends_per_second") {
		switch {
		case t.Kind == TargetMQTT:
			d.failKey("target.sends_per_second", "only the embedded hub can be given a send rate", "remove target.sends_per_second or use target.kind: embedded")
		case !d.given("target.tier"):
			d.failKey("target.sends_per_second", "a send rate without a tier", "add target.tier (e.g. S1): the rate replaces its sends per second")
		}
	}
	if !d.has("target.tier") {
		if d.given("target.units") && !d.given("target.tier") {
			d.failKey("target.units", "units without a tier", "add target.tier (e.g. S1), or remove target.units")
		}
		return
	}
	if !d.has("target.units") {
		t.Units = 1
	}
	if _, err := tier.Lookup(t.Tier, t.Units); err != nil && d.has("target.units") {
		var te *tier.Error
		if errors.As(err, &te) {
			d.fail("target.units", te.Problem, "use fewer units or another tier")
		}
	}
}

package scenario

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// listItems returns the items of a list value with their paths
// ("p[0]", "p[1]"), or v itself with path p when the value is one scalar
// (`key: one` stands for `key: [one]`, which also suits --set). It reports
// an empty list and returns nil.
func (d *decoder) listItems(v *node, p, example string) ([]*node, []string) {
	if v.kind != kSeq {
		return []*node{v}, []string{p}
	}
	if len(v.items) == 0 {
		d.report(v.pos, p, "is empty", "list at least one, e.g. "+example+", or remove the key")
		return nil, nil
	}
	paths := make([]string, len(v.items))
	for i := range v.items {
		paths[i] = fmt.Sprintf("%s[%d]", p, i)
	}
	return v.items, paths
}

// endpoints decodes target.endpoints: a list of "host:port" or "host"
// (the port is then the default for the target's TLS setting, applied by
// finishEndpoints). Each endpoint is listed once.
func (d *decoder) endpoints(v *node, p string) []Endpoint {
	items, paths := d.listItems(v, p, "[broker-1:8883, broker-2:8883]")
	var out []Endpoint
	d.endpointItems = d.endpointItems[:0]
	for i, item := range items {
		if e, ok := d.endpoint(item, paths[i]); ok {
			out = append(out, e)
			d.endpointItems = append(d.endpointItems, listItem{item, paths[i]})
		}
	}
	return out
}

// listItem is a decoded list item with its path, for checks that come
// after the defaults.
type listItem struct {
	n    *node
	path string
}

// endpoint decodes one "host:port", "[v6]:port", "host" or bare IPv6
// address; a missing port is 0.
func (d *decoder) endpoint(v *node, p string) (Endpoint, bool) {
	s, ok := d.nonEmpty(v, p)
	if !ok {
		return Endpoint{}, false
	}
	const example = "broker-1.example.com:8883 or 127.0.0.1:8883"
	if strings.Contains(s, "://") {
		d.report(v.pos, p, "is a URL, not host:port", "write host:port only, e.g. "+example)
		return Endpoint{}, false
	}
	if strings.ContainsAny(s, " /\t") {
		d.report(v.pos, p, "is not host:port", "write host:port, e.g. "+example)
		return Endpoint{}, false
	}
	if net.ParseIP(s) != nil || !strings.Contains(s, ":") {
		return Endpoint{Host: s}, true
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		d.report(v.pos, p, "is not host:port", "write host:port, e.g. "+example+" (an IPv6 address in brackets: [::1]:8883)")
		return Endpoint{}, false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		d.report(v.pos, p, fmt.Sprintf("port %s is not a port number", show(port)), "use a port from 1 to 65535")
		return Endpoint{}, false
	}
	return Endpoint{Host: host, Port: n}, true
}

// finishEndpoints resolves the mqtt target's endpoints: target.endpoints,
// or target.host and port as the one endpoint. It reports a scenario that
// gives both forms, fills in default ports and server names, and makes
// Host and Port the first endpoint's.
func (d *decoder) finishEndpoints(t *Target) {
	if !d.given("target.endpoints") {
		if d.given("target.host") {
			t.Endpoints = []Endpoint{{Host: t.Host, Port: t.Port}}
		}
	} else {
		for _, k := range []string{"host", "port"} {
			if d.given("target." + k) {
				d.failKey("target."+k, "target."+k+" and target.endpoints both say where devices connect",
					"remove target."+k+" and write every address in target.endpoints as host:port")
			}
		}
	}
	defaultPort := DefaultPortTLS
	if !t.TLS.Enabled {
		defaultPort = DefaultPortPlain
	}
	seen := map[string]string{}
	out := t.Endpoints[:0]
	for i, e := range t.Endpoints {
		if e.Port == 0 {
			e.Port = defaultPort
		}
		if d.given("target.endpoints") {
			key, item := strings.ToLower(e.Addr()), d.endpointItems[i]
			if first, dup := seen[key]; dup {
				d.report(item.n.pos, item.path, fmt.Sprintf("%s is listed twice (first as %s)", e.Addr(), first),
					"list each endpoint once: devices spread over the endpoints evenly")
				continue
			}
			seen[key] = item.path
		}
		if t.TLS.Enabled {
			e.ServerName = e.Host
			if d.has("target.tls.server_name") {
				e.ServerName = t.TLS.ServerName
			}
		}
		out = append(out, e)
	}
	t.Endpoints = out
	if d.given("target.endpoints") && len(t.Endpoints) > 0 {
		t.Host, t.Port = t.Endpoints[0].Host, t.Endpoints[0].Port
	}
}

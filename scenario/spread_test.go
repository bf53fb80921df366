package scenario

import (
	"slices"
	"testing"
)

// mqttBase is a valid scenario against an mqtt target without host or
// endpoints; the cases add them.
const mqttBase = `auth: {type: none}
devices: {count: 10}
publish:
  stages: [{duration: 1s, rate: 10/s}]
`

func TestEndpointsAndSourcesProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		sets []string
		want []want
	}{{
		name: "host and endpoints both given",
		src: mqttBase + `target:
  kind: mqtt
  host: a.example.com
  endpoints: [b.example.com:8883]
`,
		want: []want{{"7:3 target.host", "target.host and target.endpoints both say where devices connect"}},
	}, {
		name: "port and endpoints both given",
		src: mqttBase + `target: {kind: mqtt, port: 8883, endpoints: [b.example.com]}
`,
		want: []want{{"5:22 target.port", "write every address in target.endpoints as host:port"}},
	}, {
		name: "embedded target with endpoints",
		src: base + `target: {endpoints: ["127.0.0.1:8883"]}
`,
		want: []want{{"4:10 target.endpoints", "the embedded hub is one endpoint"}},
	}, {
		name: "endpoint listed twice, once with the default port",
		src: mqttBase + `target:
  kind: mqtt
  endpoints:
    - b.example.com
    - c.example.com:8883
    - B.example.com:8883
`,
		want: []want{{"10:7 target.endpoints[2]", "B.example.com:8883 is listed twice (first as target.endpoints[0])"}},
	}, {
		name: "endpoint with a bad port, a URL and no host",
		src: mqttBase + `target: {kind: mqtt, endpoints: ["b:88830", "mqtts://c:8883", ":8883"]}
`,
		want: []want{
			{"5:34 target.endpoints[0]", `port "88830" is not a port number`},
			{"5:45 target.endpoints[1]", "is a URL"},
			{"5:63 target.endpoints[2]", "is not host:port"},
		},
	}, {
		name: "empty endpoint list",
		src: mqttBase + `target: {kind: mqtt, endpoints: []}
`,
		want: []want{{"5:33 target.endpoints", "is empty"}},
	}, {
		name: "source address that is not an address",
		src: base + `connect: {source_addresses: [127.0.0.2, localhost]}
`,
		want: []want{{"4:41 connect.source_addresses[1]", `"localhost" is not an IP address`}},
	}, {
		name: "CIDR with host bits suggests its network",
		src: base + `connect: {source_addresses: 127.0.0.5/28}
`,
		want: []want{{"4:29 connect.source_addresses", "did you mean 127.0.0.0/28 (127.0.0.1 to 127.0.0.14)?"}},
	}, {
		name: "CIDR too large for the cap",
		src: base + `connect: {source_addresses: 127.0.0.0/8}
`,
		want: []want{{"4:29 connect.source_addresses", "holds 16777214 usable addresses; the list may name at most 4096 in all — use a longer prefix, e.g. 127.0.0.0/20"}},
	}, {
		name: "address inside an earlier CIDR",
		src: base + `connect: {source_addresses: [127.0.0.0/30, 127.0.0.2]}
`,
		want: []want{{"4:44 connect.source_addresses[1]", "127.0.0.2 is already in connect.source_addresses[0] (127.0.0.0/30)"}},
	}, {
		name: "families mixed",
		src: base + `connect: {source_addresses: [127.0.0.2, "::1"]}
`,
		want: []want{{"4:41 connect.source_addresses[1]", "mixes IPv4 and IPv6"}},
	}, {
		name: "IPv6 sources to the embedded hub on 127.0.0.1",
		src: base + `connect: {source_addresses: "::1"}
`,
		want: []want{{"4:29 connect.source_addresses", "devices connecting from ::1 cannot reach 127.0.0.1"}},
	}, {
		name: "loopback sources to a remote endpoint",
		src: mqttBase + `target: {kind: mqtt, endpoints: ["10.0.0.5:1883", "10.0.0.6:1883"], tls: false}
connect: {source_addresses: 127.0.0.2}
`,
		want: []want{{"6:29 connect.source_addresses", "from the loopback address 127.0.0.2 cannot reach 10.0.0.5"}},
	}, {
		name: "unspecified and multicast sources",
		src: base + `connect: {source_addresses: [0.0.0.0, 224.0.0.1]}
`,
		want: []want{
			{"4:30 connect.source_addresses[0]", "unspecified address"},
			{"4:39 connect.source_addresses[1]", "multicast"},
		},
	}, {
		name: "bad source in a --set override",
		src:  base,
		sets: []string{"connect.source_addresses=[127.0.0.2, 127.0.0.300]"},
		want: []want{{"--set:1:38 connect.source_addresses[1]", "is not an IP address"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, parseProblems(t, tt.src, tt.sets...), tt.want)
		})
	}
}

func TestEndpointsAreResolved(t *testing.T) {
	s, err := Parse("t.yaml", []byte(mqttBase+`target:
  kind: mqtt
  endpoints: [n1.example.com, "n2.example.com:9883", "[::1]:8884", "::2"]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Endpoint{
		{Host: "n1.example.com", Port: 8883, ServerName: "n1.example.com"},
		{Host: "n2.example.com", Port: 9883, ServerName: "n2.example.com"},
		{Host: "::1", Port: 8884, ServerName: "::1"},
		{Host: "::2", Port: 8883, ServerName: "::2"},
	}
	if !slices.Equal(s.Target.Endpoints, want) {
		t.Errorf("endpoints %+v\nwant %+v", s.Target.Endpoints, want)
	}
	if s.Target.Host != "n1.example.com" || s.Target.Port != 8883 {
		t.Errorf("host:port %s:%d, want the first endpoint's", s.Target.Host, s.Target.Port)
	}
	if got := s.Target.Addr(); got != "n1.example.com:8883, n2.example.com:9883, [::1]:8884, [::2]:8883" {
		t.Errorf("Addr() = %q", got)
	}
}

// One certificate name for a cluster: every endpoint verifies against
// target.tls.server_name; without TLS the ports default to 1883 and no
// name is verified.
func TestEndpointServerNames(t *testing.T) {
	s, err := Parse("t.yaml", []byte(mqttBase+`target:
  kind: mqtt
  endpoints: ["10.0.0.1", "10.0.0.2"]
  tls: {server_name: broker.example.com}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Target.Endpoints {
		if e.ServerName != "broker.example.com" || e.Port != 8883 {
			t.Errorf("endpoint %+v: want server name broker.example.com, port 8883", e)
		}
	}
	s, err = Parse("t.yaml", []byte(mqttBase+`target: {kind: mqtt, endpoints: ["10.0.0.1"], tls: false}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := s.Target.Endpoints[0]; e != (Endpoint{Host: "10.0.0.1", Port: 1883}) {
		t.Errorf("plain endpoint %+v, want 10.0.0.1:1883 without a server name", e)
	}
}

func TestHostIsTheOneEndpoint(t *testing.T) {
	s, err := Parse("t.yaml", []byte(mqttBase+`target: {kind: mqtt, host: b.example.com, port: 9000}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Endpoint{{Host: "b.example.com", Port: 9000, ServerName: "b.example.com"}}; !slices.Equal(s.Target.Endpoints, want) {
		t.Errorf("endpoints %+v, want %+v", s.Target.Endpoints, want)
	}
	s, err = Parse("t.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.Endpoints != nil {
		t.Errorf("embedded target has endpoints %+v; its address is known only when the hub starts", s.Target.Endpoints)
	}
}

func TestSourceAddressesExpand(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"127.0.0.2", []string{"127.0.0.2"}},
		{"[127.0.0.3, 127.0.0.2]", []string{"127.0.0.3", "127.0.0.2"}}, // file order
		{"127.0.0.0/29", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", // no network
			"127.0.0.5", "127.0.0.6"}}, // and no broadcast address
		{"127.0.0.8/31", []string{"127.0.0.8", "127.0.0.9"}}, // RFC 3021 point-to-point: both
		{"127.0.0.9/32", []string{"127.0.0.9"}},
		{"[127.0.1.0/30, 127.0.0.7]", []string{"127.0.1.1", "127.0.1.2", "127.0.0.7"}},
		{"::ffff:127.0.0.2", []string{"127.0.0.2"}},               // an IPv4-mapped address is the IPv4 one
		{"fd00::/126", []string{"fd00::1", "fd00::2", "fd00::3"}}, // no subnet-router anycast
	}
	for _, tt := range tests {
		src := mqttBase + "target: {kind: mqtt, host: b.example.com}\n"
		s, err := Parse("t.yaml", []byte(src), []string{"connect.source_addresses=" + tt.value})
		if err != nil {
			t.Errorf("%s: %v", tt.value, err)
			continue
		}
		var got []string
		for _, a := range s.Connect.SourceAddresses {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s expands to %v, want %v", tt.value, got, tt.want)
		}
	}
	s, err := Parse("t.yaml", []byte(base), []string{"connect.source_addresses=127.0.0.0/20"})
	if err != nil || len(s.Connect.SourceAddresses) != 4094 {
		t.Errorf("a /20 (the cap's size) gives %d addresses, err %v; want 4094", len(s.Connect.SourceAddresses), err)
	}
}

// Every (source, endpoint) pair carries the floor or ceiling of its
// share of any run of consecutive device indices: the arithmetic the
// pre-flight check relies on.
func TestRouteOfSpreadsEvenly(t *testing.T) {
	for _, c := range []struct{ first, count, endpoints, sources int }{
		{0, 100, 1, 1}, {0, 100, 2, 2}, {7, 1000, 3, 4}, {5, 10, 4, 3}, {1, 1, 2, 2}, {0, 29, 1, 14},
	} {
		per := map[Route]int{}
		for i := c.first; i < c.first+c.count; i++ {
			r := RouteOf(i, c.endpoints, c.sources)
			if r.Endpoint < 0 || r.Endpoint >= c.endpoints || r.Source < 0 || r.Source >= c.sources {
				t.Fatalf("%+v: device %d routed to %+v", c, i, r)
			}
			per[r]++
		}
		pairs := c.endpoints * c.sources
		lo, hi := c.count/pairs, (c.count+pairs-1)/pairs
		for e := range c.endpoints {
			for s := range c.sources {
				if n := per[Route{e, s}]; n < lo || n > hi {
					t.Errorf("%+v: pair (source %d, endpoint %d) carries %d devices, want %d to %d", c, s, e, n, lo, hi)
				}
			}
		}
	}
	if RouteOf(5, 0, 0) != (Route{}) {
		t.Error("no endpoints or sources listed: every device takes the one there is")
	}
}

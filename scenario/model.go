// Package scenario is the YAML model of a fleetbench run: what fleet to
// simulate, how it connects, what it publishes and for how long. Load parses
// and validates a file; every value in a returned *Scenario has had its
// defaults applied and has passed validation, so the rest of fleetbench never
// re-checks it.
package scenario

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/threshold"
)

// Scenario is a loaded, defaulted and validated run description.
// It is read-only after Load returns and safe to share between goroutines.
type Scenario struct {
	Name     string        // scenario name; defaults to the file's base name
	File     string        // path the scenario was loaded from
	Target   Target        // where devices connect
	Auth     Auth          // how each device authenticates
	Devices  Devices       // fleet size and identities
	Connect  Connect       // connect ramp
	Publish  Publish       // message schedule and shape
	Duration time.Duration // length of the publish phase; defaults to the sum of the stages
	Drain    time.Duration // grace after Duration to collect acknowledgements and confirmations
	Confirm  *Confirm      // end-to-end confirmation consumer; nil when the scenario has none
	// Churn drops devices at a steady rate for a while; nil: none.
	Churn *Churn
	// Storm drops a share of the fleet at one instant; nil: none.
	Storm *Storm
	// Search is the capacity search (`fleetbench capacity`); nil: none.
	// `fleetbench run` ignores it.
	Search *Search
	// Thresholds are pass/fail criteria evaluated at the end of the run.
	Thresholds []Threshold
	// AbortOnFail stops a run early once a threshold can no longer pass.
	AbortOnFail bool
	// AbortDelay is how long into the run threshold aborts are suppressed.
	AbortDelay time.Duration
	// Warnings are "file:line:col: path: message" lines about settings that
	// are valid but probably unwise (plain TCP, unverified certificates).
	// Show them before the run.
	Warnings []string

	// positions are where each key's value (or key) is in the scenario,
	// by dotted path, for the problems Check reports.
	positions map[string]pos
}

// Target kinds.
const (
	TargetEmbedded = "embedded" // an in-process hub started by fleetbench
	TargetMQTT     = "mqtt"     // any MQTT 3.1.1 broker or IoT hub
)

// Target is the broker the fleet connects to.
type Target struct {
	Kind string // TargetEmbedded or TargetMQTT
	Host string // host name or IP; "127.0.0.1" for embedded; the first endpoint's with target.endpoints
	Port int    // TCP port; 0 for embedded (chosen at start); the first endpoint's with target.endpoints
	// Endpoints are the addresses devices dial, in file order: the nodes
	// of a broker cluster, or several hubs (target.endpoints), or the one
	// target.host:port. Every mqtt target has at least one; the embedded
	// target has none (its port is chosen when it starts). Device i dials
	// Endpoints[Route(i, len(Endpoints), ...).Endpoint].
	Endpoints []Endpoint
	TLS       TLS
	// AckDelay makes the embedded hub hold every PUBACK this long (for
	// regression experiments). Only valid with the embedded target.
	AckDelay time.Duration
	// Tier and Units are the IoT hub's pricing tier (F1, B1, B2, B3, S1,
	// S2, S3) and number of units, when the scenario states them: the
	// embedded hub then throttles as that hub does, and for any target
	// the plan is checked against the tier's quotas (plan.go). Tier
	// empty: not stated; Units is 1 when only Tier is given.
	Tier  string
	Units int
	// SendsPerSecond, when > 0, replaces the tier's device-to-cloud send
	// rate in the embedded hub (target.sends_per_second): a known capacity
	// to rehearse a capacity search against. Embedded target with a tier
	// only.
	SendsPerSecond float64
}

// Endpoint is one address devices dial.
type Endpoint struct {
	Host string // host name or IP address
	Port int    // TCP port
	// ServerName is the name the endpoint's certificate must carry:
	// target.tls.server_name when the scenario gives it (one name for a
	// cluster behind one certificate), else Host. Empty without TLS.
	ServerName string
}

// Addr is the endpoint as host:port ("[::1]:8883" for IPv6).
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Addr is where devices connect, for messages and the report:
// "host:port", or every endpoint's, comma-separated.
func (t Target) Addr() string {
	if len(t.Endpoints) == 0 {
		return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	}
	addrs := make([]string, len(t.Endpoints))
	for i, e := range t.Endpoints {
		addrs[i] = e.Addr()
	}
	return strings.Join(addrs, ", ")
}

// TLS configures the device connections. Verification is on unless
// InsecureSkipVerify is set explicitly.
type TLS struct {
	Enabled            bool   // false only when the scenario says `tls: false`
	CAFile             string // PEM bundle of trusted roots; empty: system roots (embedded: the hub's own CA)
	ServerName         string // name to verify; defaults to Target.Host
	InsecureSkipVerify bool
	CertFile, KeyFile  string // client certificate for mutual TLS (auth type x509)
	SessionResumption  bool   // share one TLS session cache across the fleet
	// KeyExchange lists the key-exchange groups a device offers, most
	// preferred first (KeyExchangeP256 etc.); the first one's key share is
	// sent in the ClientHello. Default: [p256].
	KeyExchange []string
}

// TLS key-exchange groups a device can offer.
const (
	KeyExchangeP256        = "p256"           // NIST P-256 (secp256r1), which every TLS 1.3 server must support
	KeyExchangeX25519      = "x25519"         // X25519
	KeyExchangeP384        = "p384"           // NIST P-384
	KeyExchangeX25519MLKEM = "x25519mlkem768" // hybrid post-quantum X25519 + ML-KEM-768 (TLS 1.3 only)
)

// KeyExchanges are the groups target.tls.key_exchange accepts.
var KeyExchanges = []string{KeyExchangeP256, KeyExchangeX25519, KeyExchangeP384, KeyExchangeX25519MLKEM}

// DefaultKeyExchange is what devices offer unless the scenario says: P-256
// alone, the one group every TLS 1.3 server supports (RFC 8446 §9.1), common
// on devices with secure elements, and the cheapest for the generator
// (docs/design.md).
var DefaultKeyExchange = []string{KeyExchangeP256}

// Auth types.
const (
	AuthAzureSAS = "azure-sas" // IoT Hub SAS token per device
	AuthUserPass = "userpass"  // username/password templates
	AuthAliyun   = "aliyun"    // Alibaba Cloud IoT device signature
	AuthX509     = "x509"      // client certificate; no password
	AuthNone     = "none"      // no credentials
)

// Key kinds for azure-sas.
const (
	KeyDevice = "device" // the key is every device's own key (or per device in KeysFile)
	KeyGroup  = "group"  // the key is a DPS group enrollment key; device keys are derived
)

// Auth describes how credentials are produced. Secrets never appear in a
// scenario: they come from KeyEnv, KeyFile or KeysFile, resolved at run time.
type Auth struct {
	Type string

	// Secret source (azure-sas, userpass password, aliyun device secret).
	KeyEnv   string // environment variable holding the key
	KeyFile  string // file holding the key (trailing newline trimmed)
	KeysFile string // CSV "deviceId,key" per line: one key per device
	KeyKind  string // KeyDevice or KeyGroup (azure-sas)

	// azure-sas
	HubHost    string        // IoT hub host name used in username and sr; defaults to Target.Host
	Policy     string        // shared access policy name (skn); empty: device-scoped token
	TokenTTL   time.Duration // token lifetime; devices reconnect with a fresh token before expiry
	APIVersion string        // api-version in the username; default 2021-04-12

	// userpass: templates expanded per device ({device}, {index}, {index:06})
	ClientID string // client id template; default "{device}"
	Username string // username template

	// aliyun
	ProductKey string
	SignMethod string // hmacsha1 | hmacsha256 | hmacmd5
	SecureMode int    // 2 = TLS, 3 = TCP; derived from Target.TLS when zero
}

// Devices describes the simulated fleet.
type Devices struct {
	Count      int    // number of devices, >= 1
	ID         string // id template, e.g. "sim-{index:06}"
	FirstIndex int    // index of the first device
}

// Connect describes the connect ramp.
type Connect struct {
	Rate         float64       // new connections per second (fleet-wide), > 0
	MaxInFlight  int           // connects in progress at once
	Timeout      time.Duration // dial + TLS + CONNACK
	KeepAlive    time.Duration // MQTT keep-alive
	CleanSession bool
	// Reconnect makes a device whose connection drops reconnect (after a
	// back-off) instead of staying down for the rest of the run.
	Reconnect bool
	// Backoff is how a dropped device waits before each attempt to
	// reconnect (connect.reconnect as a mapping; defaults otherwise).
	Backoff Backoff
	// SourceAddresses are the local addresses devices connect from
	// (connect.source_addresses, CIDRs expanded), all of one family, at
	// most MaxSourceAddresses; nil: the kernel chooses. Each (source,
	// endpoint) pair has its own ephemeral port range, so more sources
	// mean more connections per endpoint (docs/scale.md).
	SourceAddresses []netip.Addr
}

// Route says which endpoint and which source address a device uses.
type Route struct {
	Endpoint int // index into Target.Endpoints
	Source   int // index into Connect.SourceAddresses
}

// RouteOf spreads devices over endpoints and source addresses by their
// index, the same way in every process (a shard's devices route as they
// would in one process): consecutive indices take consecutive endpoints,
// and each endpoint's devices take the source addresses in turn. So device
// i uses the pair numbered i mod (endpoints·sources), and every (source,
// endpoint) pair carries the floor or the ceiling of
// devices/(endpoints·sources) of any run of consecutive devices. A count
// of 0 is taken as 1.
func RouteOf(index, endpoints, sources int) Route {
	endpoints, sources = max(endpoints, 1), max(sources, 1)
	return Route{Endpoint: index % endpoints, Source: index / endpoints % sources}
}

// Publish describes what the fleet publishes and when.
type Publish struct {
	QoS         byte   // 0 or 1
	MaxInFlight int    // QoS 1 messages awaiting PUBACK per device
	Topic       string // topic template; default "devices/{device}/messages/events/"
	// Properties is the IoT Hub property bag appended URL-encoded to the
	// topic ($.ct, $.ce, custom keys), in file order.
	Properties []Property
	StartRate  float64 // fleet-wide msgs/s at the start of the first stage; default: the first stage's rate
	Stages     []Stage
	Payload    Payload
	// LateAfter: a send this much after its intended time counts as late.
	LateAfter time.Duration
	// MaxLateness: a message that cannot go out within this of its intended
	// time is skipped and counted missed (keeps a stalled device from
	// building an unbounded backlog).
	MaxLateness time.Duration
	// Pacing chooses when the pacers send each message: PacingPrecise
	// (default) or PacingEfficient. See docs/design.md.
	Pacing string
}

// Pacing modes.
const (
	// PacingPrecise sends each message at its intended time (pacers sleep
	// on a timerfd): lateness well under 1 ms p99 on a quiet machine, at
	// the price of a wake-up per message when messages are sparse.
	PacingPrecise = "precise"
	// PacingEfficient rounds send times up to a 1 ms grid and sends what is
	// due together: the least CPU per message, up to 1 ms late.
	PacingEfficient = "efficient"
)

// Property is one key/value of the IoT Hub property bag.
type Property struct{ Key, Value string }

// Stage is one segment of the publish schedule: the fleet-wide rate moves
// linearly from the previous stage's rate (or StartRate) to Rate over Duration.
type Stage struct {
	Duration time.Duration
	Rate     float64 // fleet-wide messages per second (per-device interval forms are converted)
	// Pause marks a deliberate stage without messages: Rate is 0 and so is
	// the rate before it (validation guarantees both). A stage that is 0/s
	// from start to end is refused unless it is a pause.
	Pause bool
}

// Payload shapes each message body.
type Payload struct {
	Size     int    // total bytes; {fill} pads the template to this size
	Template string // placeholders: {device} {index} {seq} {ts} {stamp} {fill}
}

// Confirm types.
const (
	ConfirmAMQP      = "amqp"
	ConfirmAliyun    = "aliyun"
	ConfirmEventHubs = "azure-eventhubs"
	ConfirmMQTT      = "mqtt"
)

// Confirm configures the service-side consumer that confirms delivery.
type Confirm struct {
	Type string

	// amqp / aliyun / mqtt connection
	URL                string // amqp://, amqps://, mqtt://, mqtts:// (mqtt with embedded target may be empty)
	CAFile             string
	ServerName         string
	InsecureSkipVerify bool
	SASL               string // plain | anonymous (amqp)
	Username           string // amqp/mqtt user name
	PasswordEnv        string // secret sources
	PasswordFile       string
	Sources            []string // AMQP source addresses, e.g. /amq/queue/fleet
	Credit             int      // AMQP link credit

	// aliyun
	ClientID        string
	AccessKeyEnv    string // env var holding the AccessKey id
	AccessSecretEnv string // env var holding the AccessKey secret
	InstanceID      string
	ConsumerGroup   string // also the Event Hubs consumer group
	SignMethod      string // hmacsha1 | hmacsha256 | hmacmd5
	IdleTimeout     time.Duration

	// azure-eventhubs
	ConnectionStringEnv string

	// mqtt
	Topic       string // subscription filter; default "devices/+/messages/events/#"
	Clients     int    // subscriber connections (shared subscription when > 1)
	SharedGroup string

	// ListLost is how many lost (device, seq) pairs the report lists.
	ListLost int
}

// Threshold is one pass/fail criterion, e.g. Metric "publish.p99", Expr "< 100ms".
type Threshold struct {
	Metric string
	Expr   string
	Line   int // position of the threshold in the scenario file, for messages
	Col    int
	// File is the scenario file the threshold is in, or SetFile when it
	// came from a --set override (then Line is the override's number).
	File string
	// Cond is Expr parsed; validation has checked that it suits Metric.
	Cond threshold.Cond
}

package hub

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Defaults applied by Start to zero-valued Config fields.
const (
	DefaultAddr        = "127.0.0.1:0"
	DefaultHostName    = "fleetbench.azure-devices.net"
	DefaultMaxInflight = 65535
)

// Config configures an embedded hub. The zero value is not usable: Dir and
// one of GroupKey or DeviceKey must be set. Start copies the Config; changing
// it afterwards has no effect. Config's String, GoString and LogValue never
// show the keys or the service password.
type Config struct {
	// Addr is the TLS listen address; default "127.0.0.1:0" (a free port).
	// Only loopback addresses are accepted.
	Addr string
	// Dir is the directory holding ca.pem, ca-key.pem, server.pem and
	// server-key.pem (keys mode 0600): reused when present, made when
	// missing (the directory too). Required.
	Dir string
	// HostName is the IoT hub host name devices use in their username and in
	// the SAS token's sr; default "fleetbench.azure-devices.net". The server
	// certificate also names it, so devices may verify against it.
	HostName string
	// GroupKey is a DPS enrollment group key (raw bytes, already
	// base64-decoded): device key = HMAC-SHA256(GroupKey, deviceID).
	GroupKey []byte
	// DeviceKey is one device key (raw bytes, already base64-decoded) shared
	// by every device; used only when GroupKey is nil.
	DeviceKey []byte
	// ServiceUser, when not empty, lets a service client connect with
	// username ServiceUser and password ServicePassword, under any client
	// id, and SUBSCRIBE to devices/+/messages/events/# (or #) to confirm
	// deliveries end to end. It may not publish. It must not contain '/'
	// (every device username does, so the two can never be confused).
	ServiceUser string
	// ServicePassword is the service client's password; never logged.
	ServicePassword string
	// AckDelay holds the PUBACK of every QoS 1 publish this long after the
	// hub receives it (regression experiments); 0 = acknowledge at once.
	// Pipelined publishes are delayed independently, not one after another.
	AckDelay time.Duration
	// MaxInflight is the per-client limit of QoS 1 messages the hub keeps in
	// flight towards a subscriber (1..65535); default 65535.
	MaxInflight int
	// Logger receives the hub's logs (refusal reasons at Debug level);
	// default discards.
	Logger *slog.Logger
	// RefusalLog, when not nil, receives one line per refused CONNECT,
	// denied publish or denied subscription, naming the device, the reason
	// and the fix, never a secret: the first RefusalLinesPerReason of each
	// reason, then one line saying the rest are only counted
	// (Stats.ByReason). Writes are serialised.
	RefusalLog io.Writer

	// Tier, when not empty, makes the hub enforce the published quotas of
	// an IoT hub of that tier (F1, B1, B2, B3, S1, S2, S3) with Units
	// units (tier.go, throttle.go): new connections and device-to-cloud
	// sends are shaped (queued, so latency rises) up to ThrottleBacklog,
	// then refused with CONNACK 3 (connects) or closed (sends); messages
	// count in the tier's blocks against its daily quota, past which the
	// connection is closed. Empty: no throttling.
	Tier string
	// Units is the tier's number of units; 0 means 1.
	Units int
	// ThrottleBacklog is the longest a connect or send waits in a
	// throttled hub's queue; 0 means DefaultThrottleBacklog.
	ThrottleBacklog time.Duration
	// ConnectsPerSecond, SendsPerSecond and DailyMessages, when > 0,
	// replace the tier's figure (rehearsing a known capacity, tests);
	// DailyMessages counts blocks of the tier's message size.
	ConnectsPerSecond float64
	SendsPerSecond    float64
	DailyMessages     int64
}

// quota returns the Quota the hub enforces, with overrides applied; ok is
// false when Tier is empty.
func (c Config) quota() (q Quota, ok bool, err error) {
	if c.Tier == "" {
		return Quota{}, false, nil
	}
	q, err = TierQuota(c.Tier, max(c.Units, 1))
	if err != nil {
		return Quota{}, false, err
	}
	if c.ConnectsPerSecond > 0 {
		q.ConnectsPerSecond = c.ConnectsPerSecond
	}
	if c.SendsPerSecond > 0 {
		q.SendsPerSecond = c.SendsPerSecond
	}
	if c.DailyMessages > 0 {
		q.DailyBlocks = c.DailyMessages
	}
	return q, true, nil
}

// withDefaults returns a copy of c with defaults filled in and keys copied,
// or every problem found, joined.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.HostName == "" {
		c.HostName = DefaultHostName
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.ThrottleBacklog == 0 {
		c.ThrottleBacklog = DefaultThrottleBacklog
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.GroupKey = clone(c.GroupKey)
	c.DeviceKey = clone(c.DeviceKey)

	var errs []error
	if c.Dir == "" {
		errs = append(errs, fieldError("Dir", "is empty: set the directory where ca.pem and the server certificate are kept (e.g. the run's output directory)"))
	}
	if err := checkLoopback(c.Addr); err != nil {
		errs = append(errs, err)
	}
	if strings.ContainsAny(c.HostName, "/ ") {
		errs = append(errs, fieldError("HostName", "%q contains '/' or a space: use a bare host name such as %q", c.HostName, DefaultHostName))
	}
	if len(c.GroupKey) == 0 && len(c.DeviceKey) == 0 {
		errs = append(errs, errors.New("hub: no key: set Config.GroupKey (DPS group key) or Config.DeviceKey (shared device key)"))
	}
	if c.ServiceUser != "" && strings.Contains(c.ServiceUser, "/") {
		errs = append(errs, fieldError("ServiceUser", "%q contains '/': choose a plain name such as \"service\"", c.ServiceUser))
	}
	if c.ServiceUser != "" && c.ServicePassword == "" {
		errs = append(errs, errors.New("hub: ServiceUser is set but ServicePassword is empty: set a password for the service client"))
	}
	if c.AckDelay < 0 {
		errs = append(errs, fieldError("AckDelay", "%v is negative: use 0 for no delay", c.AckDelay))
	}
	if c.MaxInflight < 1 || c.MaxInflight > 65535 {
		errs = append(errs, fieldError("MaxInflight", "%d out of range: use 1..65535 (0 means %d)", c.MaxInflight, DefaultMaxInflight))
	}
	if _, _, err := c.quota(); err != nil {
		errs = append(errs, err)
	}
	if c.Tier == "" && (c.Units != 0 || c.ConnectsPerSecond != 0 || c.SendsPerSecond != 0 || c.DailyMessages != 0) {
		errs = append(errs, fieldError("Tier", "is empty but Units or a quota is set: set the tier (e.g. S1) to throttle"))
	}
	if c.Units < 0 || c.ConnectsPerSecond < 0 || c.SendsPerSecond < 0 || c.DailyMessages < 0 {
		errs = append(errs, fieldError("Units", "or a quota is negative: use 0 for the tier's figure"))
	}
	if c.ThrottleBacklog < 0 || c.ThrottleBacklog > maxThrottleBacklog {
		errs = append(errs, fieldError("ThrottleBacklog", "%v out of range: use 1ms..%v (0 means %v)", c.ThrottleBacklog, maxThrottleBacklog, DefaultThrottleBacklog))
	}
	return c, errors.Join(errs...)
}

// checkLoopback accepts "host:port" only when host is a loopback IP or
// "localhost": the hub is a local test bed, never a public endpoint.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fieldError("Addr", "%q: %v (use host:port, e.g. %q)", addr, err, DefaultAddr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fieldError("Addr", "%q is not a loopback address: the embedded hub listens on 127.0.0.1 only", addr)
}

// FieldError is a problem with one Config field. Its Error names the field
// as Go code sets it ("hub: AckDelay -1s is negative: ..."); a command
// line that sets the field from a flag names the flag instead with
// Describe ("--ack-delay -1s is negative: ...").
type FieldError struct {
	Field   string // the Config field, e.g. "AckDelay"
	Problem string // what is wrong and how to fix it, after the name
}

func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

func (e *FieldError) Error() string { return "hub: " + e.Describe(e.Field) }

// Describe states the problem under another name for the field.
func (e *FieldError) Describe(name string) string { return name + " " + e.Problem }

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// String describes the Config without its secrets.
func (c Config) String() string {
	keyMode := "none"
	switch {
	case len(c.GroupKey) > 0:
		keyMode = "group"
	case len(c.DeviceKey) > 0:
		keyMode = "device"
	}
	return fmt.Sprintf("hub.Config{Addr:%q Dir:%q HostName:%q Key:%s ServiceUser:%q AckDelay:%v MaxInflight:%d Tier:%q Units:%d}",
		c.Addr, c.Dir, c.HostName, keyMode, c.ServiceUser, c.AckDelay, c.MaxInflight, c.Tier, c.Units)
}

// GoString is String, so %#v cannot print the secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print String instead of the fields.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

package credential

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// Credentials are what one device sends in its MQTT CONNECT.
// Printing a Credentials value (any fmt verb, JSON) never shows Password.
type Credentials struct {
	ClientID string
	Username string // empty: no username
	Password Secret // empty: no password
	// Expires is when the password stops being accepted (IoT Hub drops the
	// connection then); the zero time means never. See RenewAt.
	Expires time.Time
}

// maxRenewMargin caps how long before expiry RenewAt asks for renewal.
const maxRenewMargin = 5 * time.Minute

// RenewAt returns when a device that obtained c at issued should reconnect
// with fresh credentials: a tenth of the lifetime (at most five minutes)
// before Expires, so the hub never drops it for an expired token. It returns
// the zero time when c never expires. Devices connect spread out by the
// connect ramp, so their renewals are spread out the same way.
func (c Credentials) RenewAt(issued time.Time) time.Time {
	if c.Expires.IsZero() {
		return time.Time{}
	}
	life := c.Expires.Sub(issued)
	if life <= 0 {
		return issued
	}
	return c.Expires.Add(-min(life/10, maxRenewMargin))
}

// Provider hands out device credentials.
type Provider interface {
	// Credentials returns the CONNECT credentials of the device with the
	// given index (as used in the id template) and id, valid at now. It is
	// called at every (re)connect, is safe for concurrent use and allocates
	// only the strings it returns. Errors never contain a secret.
	Credentials(index int, deviceID string, now time.Time) (Credentials, error)
}

// DefaultTokenTTL is the SAS token lifetime used when auth.token_ttl is zero.
const DefaultTokenTTL = time.Hour

// NewProvider builds the Provider for a scenario's auth section, reading
// secrets through src (auth.key_env, auth.key_file or auth.keys_file). It
// checks everything it can before the run starts: key sources, base64,
// keys-file syntax, templates, sign methods. The returned Provider is
// immutable and safe for concurrent use.
func NewProvider(a scenario.Auth, target scenario.Target, src Sources) (Provider, error) {
	return newProvider(a, target, func(spec keySpec) (keySet, error) { return loadKeys(a, src, spec) })
}

// NewProviderWithKey is NewProvider for a key fleetbench holds itself (the
// embedded hub generates its own device or group key): key is the raw,
// already decoded key (azure-sas), the password (userpass) or the device
// secret (aliyun) shared by every device; the scenario's key sources are
// ignored.
func NewProviderWithKey(a scenario.Auth, target scenario.Target, key []byte) (Provider, error) {
	return newProvider(a, target, func(keySpec) (keySet, error) {
		if len(key) == 0 {
			return keySet{}, errors.New("credential: the generated key is empty (program error)")
		}
		return keySet{one: string(key), present: true}, nil
	})
}

func newProvider(a scenario.Auth, target scenario.Target, keys func(keySpec) (keySet, error)) (Provider, error) {
	switch a.Type {
	case scenario.AuthAzureSAS:
		return newAzureProvider(a, target, keys)
	case scenario.AuthUserPass:
		return newTemplateProvider(a, keys, true)
	case scenario.AuthAliyun:
		return newAliyunProvider(a, target, keys)
	case scenario.AuthX509, scenario.AuthNone, "":
		return newTemplateProvider(a, keys, false)
	}
	return nil, fmt.Errorf("auth.type: unknown type %q (use azure-sas, userpass, aliyun, x509 or none)", a.Type)
}

var errEmptyDeviceID = errors.New("credential: the device id is empty (check devices.id)")

// printsAs gives every provider a printed form without its fields, because
// fmt prints unexported fields (the keys) raw, bypassing Secret's methods.
type printsAs string

// Format writes the provider kind only.
func (p printsAs) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "credential.Provider("+string(p)+")")
}

// String returns the provider kind only.
func (p printsAs) String() string { return "credential.Provider(" + string(p) + ")" }

// GoString returns the provider kind only.
func (p printsAs) GoString() string { return p.String() }

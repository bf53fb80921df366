package credential

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// azureProvider issues IoT Hub SAS tokens; see NewProvider.
type azureProvider struct {
	printsAs
	host       string        // hub host in sr and username
	apiVersion string        // username api-version
	policy     string        // skn; empty: device-scoped
	ttl        time.Duration // token lifetime
	group      bool          // keys hold the DPS group key; derive per device
	keys       keySet
}

var _ Provider = (*azureProvider)(nil)

func newAzureProvider(a scenario.Auth, target scenario.Target, load func(keySpec) (keySet, error)) (*azureProvider, error) {
	p := &azureProvider{
		printsAs:   "azure-sas",
		host:       a.HubHost,
		apiVersion: a.APIVersion,
		policy:     a.Policy,
		ttl:        a.TokenTTL,
	}
	if p.host == "" {
		p.host = target.Host
	}
	if p.apiVersion == "" {
		p.apiVersion = DefaultAPIVersion
	}
	if p.ttl <= 0 {
		p.ttl = DefaultTokenTTL
	}
	var errs []error
	if p.host == "" {
		errs = append(errs, errors.New("auth.hub_host: no IoT hub host name (set auth.hub_host or target.host)"))
	}
	spec := keySpec{what: "the base64 device key", base64: true}
	switch a.KeyKind {
	case scenario.KeyDevice, "":
	case scenario.KeyGroup:
		p.group = true
		spec.what = "the base64 group enrollment key"
	default:
		errs = append(errs, fmt.Errorf("auth.key_kind: unknown kind %q (use device or group)", a.KeyKind))
	}
	if p.policy != "" {
		spec.what = "the base64 key of shared access policy " + p.policy
		if p.group {
			errs = append(errs, errors.New("auth.policy: a policy-scoped token is signed with the policy key, not a group key (remove auth.policy or set auth.key_kind: device)"))
		}
	}
	if a.KeysFile != "" && (p.group || p.policy != "") {
		errs = append(errs, errors.New("auth.keys_file: holds one key per device, but a group or policy key is a single key (use auth.key_env or auth.key_file)"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	keys, err := load(spec)
	if err != nil {
		return nil, err
	}
	if !keys.present {
		return nil, fmt.Errorf("auth: azure-sas needs a key (set auth.key_env to the name of a variable holding %s, or use auth.key_file or auth.keys_file)", spec.what)
	}
	p.keys = keys
	return p, nil
}

// Credentials returns client id = device id, the IoT Hub username and a SAS
// token for "{host}/devices/{deviceId}" expiring at now + TTL (truncated to
// the second, which Expires reports). It allocates the username, the token
// and what crypto/hmac needs (once per connect, not per message).
func (p *azureProvider) Credentials(_ int, deviceID string, now time.Time) (Credentials, error) {
	if deviceID == "" {
		return Credentials{}, errEmptyDeviceID
	}
	key, err := p.keys.lookup(deviceID)
	if err != nil {
		return Credentials{}, err
	}
	se := now.Add(p.ttl).Unix()
	s := getScratch()
	defer putScratch(s)
	if p.group {
		var dk [32]byte
		devKey := appendHMAC(dk[:0], hashSHA256, key, deviceID)
		s.out = appendSAS(s.out[:0], s, devKey, se, p.policy, p.host, "/devices/", deviceID)
	} else {
		s.out = appendSAS(s.out[:0], s, key, se, p.policy, p.host, "/devices/", deviceID)
	}
	return Credentials{
		ClientID: deviceID,
		Username: HubUsername(p.host, deviceID, p.apiVersion),
		Password: Secret(s.out),
		Expires:  time.Unix(se, 0),
	}, nil
}

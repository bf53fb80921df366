package credential

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// aliyunProvider signs Alibaba Cloud IoT device CONNECTs; see AliyunMQTT.
type aliyunProvider struct {
	printsAs
	clientID   template
	productKey string
	signMethod string
	hash       hashKind
	secureMode int
	keys       keySet
}

var _ Provider = (*aliyunProvider)(nil)

func newAliyunProvider(a scenario.Auth, target scenario.Target, load func(keySpec) (keySet, error)) (*aliyunProvider, error) {
	p := &aliyunProvider{printsAs: "aliyun", productKey: a.ProductKey, signMethod: a.SignMethod, secureMode: a.SecureMode}
	if p.signMethod == "" {
		p.signMethod = SignHMACSHA256
	}
	if p.secureMode == 0 {
		p.secureMode = SecureModeTCP
		if target.TLS.Enabled {
			p.secureMode = SecureModeTLS
		}
	}
	var errs []error
	if p.productKey == "" {
		errs = append(errs, errors.New("auth.product_key: empty (set it to the product key of the devices)"))
	}
	if strings.ContainsAny(p.productKey, "&|") {
		errs = append(errs, fmt.Errorf("auth.product_key: %q contains '&' or '|'", p.productKey))
	}
	var err error
	if p.hash, err = aliyunHash(p.signMethod); err != nil {
		errs = append(errs, fmt.Errorf("auth.sign_method: %w", err))
	}
	if p.secureMode != SecureModeTLS && p.secureMode != SecureModeTCP {
		errs = append(errs, fmt.Errorf("auth.secure_mode: %d is not supported (use 2 for TLS or 3 for TCP)", p.secureMode))
	}
	cid := a.ClientID
	if cid == "" {
		cid = "{device}"
	}
	if p.clientID, err = parseTemplate("auth.client_id", cid); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	spec := keySpec{what: "the device secret"}
	if p.keys, err = load(spec); err != nil {
		return nil, err
	}
	if !p.keys.present {
		return nil, errors.New("auth: aliyun needs the device secret (set auth.key_env to the name of a variable holding it, or use auth.key_file, or auth.keys_file for one secret per device)")
	}
	return p, nil
}

// Credentials signs with device name = device id and timestamp =
// now in Unix milliseconds. It allocates the client id, username, password
// and what crypto/hmac needs (once per connect, not per message).
func (p *aliyunProvider) Credentials(index int, deviceID string, now time.Time) (Credentials, error) {
	if deviceID == "" {
		return Credentials{}, errEmptyDeviceID
	}
	if strings.ContainsAny(deviceID, "&") {
		return Credentials{}, fmt.Errorf("aliyun: device name %q contains '&' (check devices.id)", deviceID)
	}
	secret, err := p.keys.lookup(deviceID)
	if err != nil {
		return Credentials{}, err
	}
	cid := p.clientID.expand(index, deviceID)
	if strings.ContainsAny(cid, "|,") {
		return Credentials{}, fmt.Errorf("aliyun: client id %q contains '|' or ',' (check auth.client_id and devices.id)", cid)
	}
	ts := now.UnixMilli()
	s := getScratch()
	defer putScratch(s)
	s.out = appendAliyunClientID(s.out[:0], cid, p.secureMode, p.signMethod, ts)
	clientID := string(s.out)
	s.out = appendAliyunPassword(s.out[:0], s, p.hash, secret, cid, deviceID, p.productKey, ts)
	return Credentials{
		ClientID: clientID,
		Username: deviceID + "&" + p.productKey,
		Password: Secret(s.out),
	}, nil
}

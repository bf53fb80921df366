package credential

import (
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// templateProvider serves userpass, x509 and none: client id and username
// from templates, an optional password (userpass only).
type templateProvider struct {
	printsAs
	clientID, username template
	keys               keySet // password source; absent: no password
}

var _ Provider = (*templateProvider)(nil)

func newTemplateProvider(a scenario.Auth, load func(keySpec) (keySet, error), password bool) (*templateProvider, error) {
	typ := a.Type
	if typ == "" {
		typ = scenario.AuthNone
	}
	p := &templateProvider{printsAs: printsAs(typ)}
	cid := a.ClientID
	if cid == "" {
		cid = "{device}"
	}
	var err error
	if p.clientID, err = parseTemplate("auth.client_id", cid); err != nil {
		return nil, err
	}
	if p.username, err = parseTemplate("auth.username", a.Username); err != nil {
		return nil, err
	}
	if password {
		if p.keys, err = load(keySpec{what: "the device password"}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Credentials expands the templates for the device; the password is the
// shared one or the device's line of the keys file. They never expire.
func (p *templateProvider) Credentials(index int, deviceID string, _ time.Time) (Credentials, error) {
	if deviceID == "" {
		return Credentials{}, errEmptyDeviceID
	}
	c := Credentials{
		ClientID: p.clientID.expand(index, deviceID),
		Username: p.username.expand(index, deviceID),
	}
	if p.keys.present {
		pw, err := p.keys.lookup(deviceID)
		if err != nil {
			return Credentials{}, err
		}
		c.Password = Secret(pw)
	}
	return c, nil
}

package scenario

import (
	"fmt"
	"strings"
	"time"
)

// Auth defaults.
const (
	DefaultTokenTTL   = time.Hour
	DefaultAPIVersion = "2021-04-12"
	DefaultClientID   = "{device}"
)

// authOnly says which auth types each type-specific key applies to.
var authOnly = map[string][]string{
	"key_env":     {AuthAzureSAS, AuthUserPass, AuthAliyun},
	"key_file":    {AuthAzureSAS, AuthUserPass, AuthAliyun},
	"keys_file":   {AuthAzureSAS, AuthUserPass, AuthAliyun},
	"key_kind":    {AuthAzureSAS},
	"hub_host":    {AuthAzureSAS},
	"policy":      {AuthAzureSAS},
	"token_ttl":   {AuthAzureSAS},
	"api_version": {AuthAzureSAS},
	"client_id":   {AuthUserPass, AuthAliyun},
	"username":    {AuthUserPass},
	"product_key": {AuthAliyun},
	"sign_method": {AuthAliyun},
	"secure_mode": {AuthAliyun},
}

func (d *decoder) decodeAuth(n *node, a *Auth) {
	d.object(n, "auth", authKeys, func(key string, v *node, p string) {
		switch key {
		case "type":
			a.Type, _ = d.enum(v, p, AuthAzureSAS, AuthUserPass, AuthAliyun, AuthX509, AuthNone)
		case "key_env":
			a.KeyEnv, _ = d.env(v, p)
		case "key_file":
			a.KeyFile, _ = d.filePath(v, p)
		case "keys_file":
			a.KeysFile, _ = d.filePath(v, p)
		case "key_kind":
			a.KeyKind, _ = d.enum(v, p, KeyDevice, KeyGroup)
		case "hub_host":
			a.HubHost, _ = d.host(v, p)
		case "policy":
			a.Policy, _ = d.nonEmpty(v, p)
		case "token_ttl":
			a.TokenTTL, _ = d.duration(v, p, time.Minute, 365*24*time.Hour)
		case "api_version":
			a.APIVersion, _ = d.nonEmpty(v, p)
		case "client_id":
			a.ClientID, d.clientIDSegs, _ = d.template(v, p, TopicFields)
		case "username":
			a.Username, _, _ = d.template(v, p, TopicFields)
		case "product_key":
			a.ProductKey, _ = d.nonEmpty(v, p)
		case "sign_method":
			a.SignMethod, _ = d.enum(v, p, "hmacsha256", "hmacsha1", "hmacmd5")
		case "secure_mode":
			if m, ok := d.integer(v, p, 2, 3); ok {
				a.SecureMode = m
			}
		}
	})
}

// finishAuth applies the auth defaults and checks them against the target.
func (d *decoder) finishAuth(a *Auth, t *Target) {
	embedded := t.Kind == TargetEmbedded
	if !d.given("auth.type") {
		if embedded {
			a.Type = AuthAzureSAS
		} else {
			d.failKey("auth.type", "an mqtt target needs an auth type",
				"add auth.type: azure-sas, userpass, aliyun, x509 or none")
			return
		}
	}
	if d.bad["auth.type"] {
		return // reported
	}
	if embedded && a.Type != AuthAzureSAS {
		d.fail("auth.type", "the embedded hub accepts IoT Hub SAS tokens only",
			"use auth.type: azure-sas, or set target.kind: mqtt to test another broker")
	}
	for _, k := range authKeys {
		if types, ok := authOnly[k]; ok && d.given("auth."+k) && !contains(types, a.Type) {
			d.failKey("auth."+k, fmt.Sprintf("applies to auth type %s, not %s", strings.Join(types, " or "), a.Type),
				"remove it, or change auth.type")
		}
	}
	var sources []string
	for _, k := range []string{"key_env", "key_file", "keys_file"} {
		if d.given("auth." + k) {
			sources = append(sources, k)
		}
	}
	for _, k := range sources[min(1, len(sources)):] {
		d.failKey("auth."+k, "a second key source (also "+sources[0]+")", "keep one of key_env, key_file or keys_file")
	}
	needKey := func(what string) {
		if len(sources) == 0 {
			d.failKey("auth", fmt.Sprintf("auth type %s needs %s", a.Type, what),
				"add auth.key_env (an environment variable holding it), auth.key_file, or auth.keys_file (deviceId,key per line)")
		}
	}
	if !d.has("auth.client_id") && (a.Type == AuthUserPass || a.Type == AuthAliyun) {
		a.ClientID = DefaultClientID
	}
	switch a.Type {
	case AuthAzureSAS:
		if !embedded {
			needKey("a key")
		}
		if a.KeyKind == "" {
			a.KeyKind = KeyDevice
		}
		if a.KeyKind == KeyGroup && d.given("auth.keys_file") {
			d.failKey("auth.keys_file", "key_kind group derives every device key from one group key, but keys_file lists a key per device",
				"use key_env or key_file for the group key, or set key_kind: device")
		}
		if d.given("auth.policy") && (a.KeyKind == KeyGroup || d.given("auth.keys_file")) {
			d.failKey("auth.policy", "a policy token is signed with the policy's own key, so it takes neither a group key nor per-device keys",
				"remove auth.policy, or give the policy key with key_env/key_file and key_kind: device")
		}
		if !d.has("auth.token_ttl") {
			a.TokenTTL = DefaultTokenTTL
		}
		if !d.has("auth.api_version") {
			a.APIVersion = DefaultAPIVersion
		}
		if !d.has("auth.hub_host") {
			a.HubHost = t.Host
		}
		if !t.TLS.Enabled {
			d.warn("target.tls", "IoT Hub accepts TLS connections only: a real hub will refuse these devices")
		}
	case AuthUserPass:
		if !d.given("auth.username") {
			d.failKey("auth.username", "auth type userpass needs a username template",
				`add auth.username, e.g. "{device}"; the password comes from key_env, key_file or keys_file`)
		}
	case AuthAliyun:
		if !d.given("auth.product_key") {
			d.failKey("auth.product_key", "auth type aliyun needs the product key", "add auth.product_key")
		}
		needKey("the device secret")
		if !d.has("auth.sign_method") {
			a.SignMethod = "hmacsha256"
		}
		want := 2
		if !t.TLS.Enabled {
			want = 3
		}
		if !d.has("auth.secure_mode") {
			a.SecureMode = want
		} else if a.SecureMode != want {
			d.fail("auth.secure_mode", fmt.Sprintf("secure_mode %d contradicts the target's TLS setting (secure_mode 2 is TLS, 3 is plain TCP)", a.SecureMode),
				fmt.Sprintf("use secure_mode: %d, or remove it to derive it from target.tls", want))
		}
	case AuthX509:
		for _, k := range []string{"cert_file", "key_file"} {
			if !d.given("target.tls." + k) {
				d.failKey("target.tls."+k, "auth type x509 needs a client certificate", "add target.tls.cert_file and target.tls.key_file (PEM)")
			}
		}
	}
}

// finishClientID checks that the client id template gives every device its
// own id. A broker keeps one connection per client id (MQTT 3.1.1 §3.1.4):
// a second device connecting with the same id takes the first one's
// connection over, so a shared id turns the run into a chain of
// disconnects. The template is a function of the device id and index, both
// distinct per device, so it gives distinct ids exactly when it uses one of
// them ({index:02} and the like pad, never truncate).
func (d *decoder) finishClientID(a *Auth, dv *Devices) {
	const path = "auth.client_id"
	if !d.has(path) || dv.Count < 2 {
		return
	}
	if HasField(d.clientIDSegs, FieldDevice) || HasField(d.clientIDSegs, FieldIndex) {
		return
	}
	d.fail(path, fmt.Sprintf("all %d devices would connect with the client id %s, and a broker keeps one connection per client id: each connect would drop the device before it",
		dv.Count, show(a.ClientID)),
		fmt.Sprintf(`remove auth.client_id to use the device id ({device}), or add {device} or {index} to it, e.g. "%s-{index}"`, a.ClientID))
}

package credential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// No fmt verb, JSON or slog output of a Secret, of Credentials holding one,
// or of a Provider (whose unexported fields hold keys) shows the secret.
func TestNothingPrintsSecrets(t *testing.T) {
	const secretText = "TOPSECRETVALUE"
	key := []byte(secretText)
	azure, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS}, tlsTarget, key)
	if err != nil {
		t.Fatal(err)
	}
	userpass, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthUserPass}, tlsTarget, key)
	if err != nil {
		t.Fatal(err)
	}
	aliyun, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAliyun, ProductKey: "pk"}, tlsTarget, key)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := userpass.Credentials(0, "d", time.Now())
	if creds.Password.Reveal() != secretText {
		t.Fatalf("setup: password %q", creds.Password.Reveal())
	}
	azureCreds, _ := azure.Credentials(0, "d", time.Now())
	token := azureCreds.Password.Reveal()
	_, sig, _ := strings.Cut(token, "&sig=")
	sig, _, _ = strings.Cut(sig, "&")

	values := map[string]any{
		"Secret":            Secret(secretText),
		"*Secret":           func() *Secret { s := Secret(secretText); return &s }(),
		"Credentials":       creds,
		"*Credentials":      &creds,
		"azure Credentials": azureCreds,
		"[]Credentials":     []Credentials{creds},
		"map":               map[string]Secret{"k": Secret(secretText)},
		"nested struct":     struct{ C Credentials }{creds},
		"azure provider":    azure,
		"userpass provider": userpass,
		"aliyun provider":   aliyun,
		"AliyunDevice":      AliyunDevice{DeviceSecret: Secret(secretText)},
		"AliyunAMQPAuth":    AliyunAMQPAuth{AccessSecret: Secret(secretText)},
		"SASFields":         func() SASFields { f, _ := ParseSAS(token); return f }(),
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20v", "%-8s", "%T %v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if verb == "%T %v" {
				out = fmt.Sprintf(verb, v, v)
			}
			checkNoSecret(t, name+" "+verb, out, secretText, token, sig)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: json: %v", name, err)
		}
		checkNoSecret(t, name+" json", string(j), secretText, token, sig)
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		checkNoSecret(t, name+" slog", buf.String(), secretText, token, sig)
	}
	if got, _ := json.Marshal(Secret("x")); string(got) != `"[redacted]"` {
		t.Errorf("JSON of Secret = %s", got)
	}
	if got, _ := Secret("x").MarshalText(); string(got) != "[redacted]" {
		t.Errorf("text of Secret = %s", got)
	}
	if fmt.Sprint(Secret("x")) != "[redacted]" || Secret("x").Reveal() != "x" {
		t.Errorf("String/Reveal")
	}
}

func checkNoSecret(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s reveals a secret: %s", what, out)
		}
	}
	if strings.Contains(strings.ToUpper(out), strings.ToUpper(fmt.Sprintf("%x", secrets[0]))) {
		t.Errorf("%s reveals the secret in hex: %s", what, out)
	}
}

// Errors from Credentials and NewProvider never carry the key.
func TestErrorsDoNotRevealSecrets(t *testing.T) {
	const secretB64 = "U0VDUkVUU0VDUkVU" // base64("SECRETSECRET")
	f := fakeSources{
		env:   map[string]string{"K": secretB64 + "!"},
		files: map[string]string{"k.csv": "a," + secretB64 + "\nb," + secretB64 + "?\n"},
	}
	for _, a := range []scenario.Auth{
		{Type: scenario.AuthAzureSAS, HubHost: "h", KeyEnv: "K"},
		{Type: scenario.AuthAzureSAS, HubHost: "h", KeysFile: "k.csv"},
	} {
		_, err := NewProvider(a, tlsTarget, f.src())
		if err == nil {
			t.Fatal("want an error")
		}
		checkNoSecret(t, "NewProvider error", err.Error(), secretB64, "SECRETSECRET")
	}
	f.files["k.csv"] = "a," + secretB64 + "\n"
	p := mustProvider(t, scenario.Auth{Type: scenario.AuthAzureSAS, HubHost: "h", KeysFile: "k.csv"}, tlsTarget, f)
	_, err := p.Credentials(0, "zz", time.Now())
	if err == nil {
		t.Fatal("want an error")
	}
	checkNoSecret(t, "Credentials error", err.Error(), secretB64, "SECRETSECRET")
}

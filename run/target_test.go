package run

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/scenario"
)

// With the embedded target, the key the scenario names is the hub's key:
// a client that signs with it outside fleetbench is let in.
func TestEmbeddedHubUsesTheScenariosKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b64 := base64.StdEncoding.EncodeToString(key)
	keyFile := filepath.Join(t.TempDir(), "group.key")
	if err := os.WriteFile(keyFile, []byte(b64+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, source string }{
		{"group", "key_env: MY_GROUP_KEY"},
		{"device", "key_file: " + keyFile},
	} {
		t.Run(c.kind, func(t *testing.T) {
			body := "target: {kind: embedded}\nauth: {type: azure-sas, key_kind: " + c.kind + ", " + c.source + "}\n" +
				"devices: {count: 1}\npublish: {stages: [{duration: 1s, rate: 1/s}]}\n"
			sc, err := scenario.Parse("s.yaml", []byte(body), nil)
			if err != nil {
				t.Fatal(err)
			}
			env := Env{Stderr: io.Discard, ReadFile: os.ReadFile,
				LookupEnv: func(k string) (string, bool) { return b64, k == "MY_GROUP_KEY" }}
			r := &runner{env: env, sc: sc, dir: t.TempDir()}
			if _, _, err := r.setUpTarget(); err != nil {
				t.Fatal(err)
			}
			defer r.hub.Close()

			const id = "outsider-1"
			devKey := key
			if c.kind == "group" {
				devKey = credential.DeriveDeviceKey(key, id)
			}
			host := r.hub.HostName()
			token := credential.SASToken(credential.DeviceResourceURI(host, id), devKey, time.Now().Add(time.Hour), "")
			o := mqtt.NewClientOptions().AddBroker("ssl://" + r.addr).SetClientID(id).
				SetUsername(credential.HubUsername(host, id, scenario.DefaultAPIVersion)).SetPassword(token.Reveal()).
				SetTLSConfig(&tls.Config{RootCAs: r.hub.CAPool(), ServerName: "127.0.0.1"}).
				SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(30 * time.Second)
			cl := mqtt.NewClient(o)
			tok := cl.Connect()
			tok.Wait()
			if err := tok.Error(); err != nil {
				t.Fatalf("a client signing with the scenario's %s key was refused: %v", c.kind, err)
			}
			cl.Disconnect(0)
		})
	}
}

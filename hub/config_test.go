package hub

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every problem in a Config is reported at once.
func TestConfigErrorsJoined(t *testing.T) {
	_, err := Config{
		Addr:        "0.0.0.0:8883",
		HostName:    "a/b",
		ServiceUser: "svc/x",
		AckDelay:    -time.Second,
		MaxInflight: 70000,
	}.withDefaults()
	if err == nil {
		t.Fatal("invalid Config accepted")
	}
	for _, want := range []string{"Dir is empty", "not a loopback", "HostName", "no key", "ServiceUser", "ServicePassword", "AckDelay", "MaxInflight"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Dir: "d", DeviceKey: []byte("k")}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != DefaultAddr || c.HostName != DefaultHostName || c.MaxInflight != DefaultMaxInflight || c.Logger == nil {
		t.Errorf("defaults not applied: %v", c)
	}
	for _, addr := range []string{"localhost:0", "[::1]:0", "127.0.0.2:1883"} {
		if _, err := (Config{Dir: "d", DeviceKey: []byte("k"), Addr: addr}).withDefaults(); err != nil {
			t.Errorf("loopback %s refused: %v", addr, err)
		}
	}
}

// Start refuses a bad Config before touching the network.
func TestStartRefusesBadConfig(t *testing.T) {
	if h, err := Start(Config{Dir: t.TempDir()}); err == nil {
		h.Close()
		t.Fatal("Start without a key succeeded")
	}
}

// Keys and the service password never show in any text form of a Config.
func TestConfigHidesSecrets(t *testing.T) {
	c := Config{Dir: "d", GroupKey: []byte("GROUPSECRET"), DeviceKey: []byte("DEVICESECRET"), ServiceUser: "svc", ServicePassword: "PWSECRET"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.LogValue().String()} {
		for _, secret := range []string{"GROUPSECRET", "DEVICESECRET", "PWSECRET", "71 82 79"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows a secret", s)
			}
		}
	}
}

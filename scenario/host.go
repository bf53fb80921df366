package scenario

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Host is the machine a scenario is about to run on, as validation may see
// it. cmd passes the real process's environment, file reader and processor
// count; tests pass maps. A nil function skips the checks that need it, and
// CPUs 0 skips the rate checks.
type Host struct {
	LookupEnv func(name string) (string, bool)
	ReadFile  func(path string) ([]byte, error)
	CPUs      int // processors the generator may use (GOMAXPROCS)
}

// Check checks the scenario against the host that will run it, finding
// before the run what the run would otherwise find only when it starts:
// key and password variables that are not set or empty, key, keys,
// certificate and CA files that cannot be read, a CA file without a PEM
// certificate, a client certificate that does not load, and publish rates
// beyond what the host can send (checkRates).
//
// It returns warnings ("file:line:col: path: message", like
// Scenario.Warnings) and an error wrapping ErrInvalid (a *ValidationError
// with the scenario positions of every problem), or nil. It never quotes
// the value of a secret. Load stays pure; Check is the step that reads the
// environment and files, through h only.
func (s *Scenario) Check(h Host) (warnings []string, err error) {
	c := &hostCheck{s: s, h: h}
	c.auth()
	c.targetTLS()
	if s.Confirm != nil {
		c.confirm()
	}
	c.rates()
	if len(c.problems) > 0 {
		sortProblems(c.problems)
		return c.warnings, &ValidationError{Problems: c.problems}
	}
	return c.warnings, nil
}

// hostCheck collects the problems and warnings of one Check.
type hostCheck struct {
	s        *Scenario
	h        Host
	problems []Problem
	warnings []string
}

// at is the position of path's value in the scenario, or of its nearest
// given ancestor, or the start of the file.
func (c *hostCheck) at(path string) pos {
	for p := path; p != ""; p = parent(p) {
		if q, ok := c.s.positions[p]; ok {
			return q
		}
	}
	return pos{c.s.File, 1, 1}
}

func (c *hostCheck) fail(path, msg, fix string) {
	p := c.at(path)
	c.problems = append(c.problems, Problem{File: p.file, Line: p.line, Col: p.col, Path: path, Msg: msg, Fix: fix})
}

func (c *hostCheck) warn(path, msg string) {
	p := c.at(path)
	c.warnings = append(c.warnings, Problem{File: p.file, Line: p.line, Col: p.col, Path: path, Msg: msg}.String())
}

// secretEnv checks that the variable named at path is set and not empty.
// what says what it must hold ("the base64 device key").
func (c *hostCheck) secretEnv(path, name, what string) (string, bool) {
	if c.h.LookupEnv == nil || name == "" {
		return "", false
	}
	v, ok := c.h.LookupEnv(name)
	switch {
	case !ok:
		c.fail(path, fmt.Sprintf("environment variable %s is not set", name), fmt.Sprintf("export %s holding %s before the run", name, what))
		return "", false
	case v == "":
		c.fail(path, fmt.Sprintf("environment variable %s is empty", name), fmt.Sprintf("set %s to %s", name, what))
		return "", false
	}
	return v, true
}

// file reads the file named at path; what says what it must hold.
func (c *hostCheck) file(path, name, what string) ([]byte, bool) {
	if c.h.ReadFile == nil || name == "" {
		return nil, false
	}
	data, err := c.h.ReadFile(name)
	if err != nil {
		reason := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err
		}
		c.fail(path, fmt.Sprintf("cannot read %s: %v", name, reason), fmt.Sprintf("point it at a readable file holding %s", what))
		return nil, false
	}
	return data, true
}

// secretFile reads a file that holds one secret and checks it is not empty.
func (c *hostCheck) secretFile(path, name, what string) (string, bool) {
	data, ok := c.file(path, name, what)
	if !ok {
		return "", false
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		c.fail(path, fmt.Sprintf("%s is empty", name), fmt.Sprintf("write %s to it", what))
		return "", false
	}
	return v, true
}

// auth checks the device key source: what the credential provider reads
// when the run starts.
func (c *hostCheck) auth() {
	a := c.s.Auth
	what := ""
	switch a.Type {
	case AuthAzureSAS:
		what = "the base64 device key"
		switch {
		case a.Policy != "":
			what = "the base64 key of shared access policy " + a.Policy
		case a.KeyKind == KeyGroup:
			what = "the base64 group enrollment key"
		}
	case AuthUserPass:
		what = "the device password"
	case AuthAliyun:
		what = "the device secret"
	default:
		return
	}
	var key, path string
	var ok bool
	switch {
	case a.KeyEnv != "":
		path = "auth.key_env"
		key, ok = c.secretEnv(path, a.KeyEnv, what)
	case a.KeyFile != "":
		path = "auth.key_file"
		key, ok = c.secretFile(path, a.KeyFile, what)
	case a.KeysFile != "":
		c.file("auth.keys_file", a.KeysFile, `one "deviceId,key" line per device`)
	}
	if ok && a.Type == AuthAzureSAS && !isBase64(key) {
		source := "environment variable " + a.KeyEnv
		if a.KeyFile != "" {
			source = a.KeyFile
		}
		c.fail(path, source+" does not hold base64 (IoT Hub keys are base64)", "copy the key as the portal or `az iot hub device-identity show` gives it")
	}
}

// isBase64 reports whether s (trimmed) is padded or unpadded standard
// base64 of at least one byte, as IoT Hub keys are.
func isBase64(s string) bool {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	return err == nil && len(b) > 0
}

// targetTLS checks the CA bundle and the client certificate that the run
// loads before connecting anyone.
func (c *hostCheck) targetTLS() {
	t := c.s.Target.TLS
	if c.s.Target.Kind != TargetMQTT || !t.Enabled {
		return
	}
	c.caFile("target.tls.ca_file", t.CAFile, "the broker")
	if t.CertFile == "" || t.KeyFile == "" {
		return
	}
	// Per-device files (certs/{device}.pem) are read at each connect;
	// the first device's stand for them all.
	certFile, keyFile := c.firstDevice(t.CertFile), c.firstDevice(t.KeyFile)
	cert, ok1 := c.file("target.tls.cert_file", certFile, "the client certificate (PEM)")
	key, ok2 := c.file("target.tls.key_file", keyFile, "the client certificate's private key (PEM)")
	if !ok1 || !ok2 {
		return
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		c.fail("target.tls.cert_file", fmt.Sprintf("%s and %s do not load as a certificate and its key: %v", certFile, keyFile, err),
			"give a PEM certificate in cert_file and its PEM private key in key_file")
	}
}

// firstDevice expands a per-device file name template for the fleet's
// first device; a name without placeholders is returned as it is.
func (c *hostCheck) firstDevice(name string) string {
	segs, err := ParseTemplate(name, TopicFields...)
	if err != nil {
		return name
	}
	dv := c.s.Devices
	return Expand(segs, dv.DeviceID(0), dv.FirstIndex)
}

// caFile checks that a CA bundle is readable and holds a PEM certificate;
// server names whose certificate the CA signed ("the broker").
func (c *hostCheck) caFile(path, name, server string) {
	data, ok := c.file(path, name, "the PEM certificate of the CA that signed "+server+"'s certificate")
	if ok && !x509.NewCertPool().AppendCertsFromPEM(data) {
		c.fail(path, name+" holds no PEM certificate", "point it at the PEM file of the CA that signed "+server+"'s certificate")
	}
}

// confirm checks the consumer's secrets and CA file, which it reads when
// it connects, before any device does.
func (c *hostCheck) confirm() {
	cf := c.s.Confirm
	if c.s.Target.Kind == TargetEmbedded && cf.Type == ConfirmMQTT && cf.URL == "" {
		return // the embedded hub's own consumer identity and CA
	}
	c.caFile("confirm.ca_file", cf.CAFile, "the confirm server")
	c.secretEnv("confirm.password_env", cf.PasswordEnv, "the consumer's password")
	c.secretFile("confirm.password_file", cf.PasswordFile, "the consumer's password")
	c.secretEnv("confirm.access_key_env", cf.AccessKeyEnv, "the AccessKey id")
	c.secretEnv("confirm.access_secret_env", cf.AccessSecretEnv, "the AccessKey secret")
	c.secretEnv("confirm.connection_string_env", cf.ConnectionStringEnv, "the Event Hubs connection string")
}

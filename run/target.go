package run

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/scenario"
)

// setUpTarget starts the embedded hub when the scenario asks for it and
// returns the devices' TLS configuration and credentials.
func (r *runner) setUpTarget() (*tls.Config, credential.Provider, error) {
	sc, env := r.sc, r.env
	if sc.Target.Kind == scenario.TargetEmbedded {
		if sc.Auth.Type != scenario.AuthAzureSAS {
			return nil, nil, &configError{fmt.Errorf("the embedded hub enforces IoT Hub rules: auth.type must be azure-sas (got %q)", sc.Auth.Type)}
		}
		// The scenario's key when it names one (so that other clients
		// holding it can connect too), else a new one for this run.
		key, given, err := credential.SharedKey(sc.Auth, credential.Sources{Env: env.LookupEnv, ReadFile: env.ReadFile})
		if err != nil {
			return nil, nil, &configError{err}
		}
		if !given {
			key = make([]byte, 32)
			rand.Read(key)
		}
		r.hubKey = key
		cfg := hub.Config{Dir: filepath.Join(r.dir, "hub"), HostName: sc.Auth.HubHost, AckDelay: sc.Target.AckDelay,
			Tier: sc.Target.Tier, Units: sc.Target.Units, SendsPerSecond: sc.Target.SendsPerSecond}
		if sc.Confirm != nil && sc.Confirm.Type == scenario.ConfirmMQTT && sc.Confirm.URL == "" {
			r.servicePassword = newServicePassword()
			cfg.ServiceUser, cfg.ServicePassword = hubServiceUser, r.servicePassword
		}
		if sc.Auth.KeyKind == scenario.KeyGroup {
			cfg.GroupKey = key
		} else {
			cfg.DeviceKey = key
		}
		h, err := hub.Start(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("starting the embedded hub: %w", err)
		}
		r.hub, r.addr = h, h.Addr()
		target := sc.Target
		target.Host = h.HostName()
		auth := sc.Auth
		auth.HubHost = h.HostName()
		creds, err := credential.NewProviderWithKey(auth, target, key)
		if err != nil {
			return nil, nil, &configError{err}
		}
		return fleet.NewTLSConfig(fleet.TLSOptions{Roots: h.CAPool(), RootsName: h.CAFile(), ServerName: "127.0.0.1",
			SessionResumption: sc.Target.TLS.SessionResumption, KeyExchange: sc.Target.TLS.KeyExchange}), creds, nil
	}

	r.addr = sc.Target.Addr()
	creds, err := credential.NewProvider(sc.Auth, sc.Target, credential.Sources{Env: env.LookupEnv, ReadFile: env.ReadFile})
	if err != nil {
		return nil, nil, &configError{err}
	}
	t := sc.Target.TLS
	if !t.Enabled {
		return nil, creds, nil
	}
	o := fleet.TLSOptions{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify, SessionResumption: t.SessionResumption, KeyExchange: t.KeyExchange}
	if o.ServerName == "" {
		o.ServerName = sc.Target.Host
	}
	if t.CAFile != "" {
		pem, err := env.ReadFile(t.CAFile)
		if err != nil {
			return nil, nil, &configError{fmt.Errorf("target.tls.ca_file: %w (point it at the broker's CA certificate)", err)}
		}
		o.Roots = x509.NewCertPool()
		if !o.Roots.AppendCertsFromPEM(pem) {
			return nil, nil, &configError{fmt.Errorf("target.tls.ca_file: %s holds no PEM certificate", t.CAFile)}
		}
		o.RootsName = t.CAFile
	}
	if t.CertFile != "" {
		load := func(certFile, keyFile string) (*tls.Certificate, error) {
			certPEM, err := env.ReadFile(certFile)
			if err != nil {
				return nil, fmt.Errorf("target.tls.cert_file: %w", err)
			}
			keyPEM, err := env.ReadFile(keyFile)
			if err != nil {
				return nil, fmt.Errorf("target.tls.key_file: %w", err)
			}
			cert, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return nil, fmt.Errorf("target.tls.cert_file/key_file: %w", err)
			}
			return &cert, nil
		}
		certSegs, err1 := scenario.ParseTemplate(t.CertFile, "device", "index")
		keySegs, err2 := scenario.ParseTemplate(t.KeyFile, "device", "index")
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, &configError{fmt.Errorf("target.tls.cert_file/key_file: %w", err)}
		}
		if scenario.HasField(certSegs, "device") || scenario.HasField(certSegs, "index") {
			// One certificate per device, e.g. certs/{device}.pem: read at
			// each connect, so 100,000 certificates are never all in memory.
			r.clientCert = func(index int, id string) (*tls.Certificate, error) {
				return load(scenario.Expand(certSegs, id, index), scenario.Expand(keySegs, id, index))
			}
		} else {
			cert, err := load(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, nil, &configError{err}
			}
			o.Certificate = cert
		}
	}
	return fleet.NewTLSConfig(o), creds, nil
}

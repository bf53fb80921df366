package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/internal/gctune"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/output"
	"github.com/fleetbench/fleetbench/scenario"
)

// cmdRun is `fleetbench run SCENARIO [--out DIR] [--set path=value ...]`.
func cmdRun(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("run", "run SCENARIO [--out DIR] [--set path=value ...]", env)
	out := fs.String("out", "", "directory for the run's report (default runs/NAME-TIMESTAMP)")
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value, e.g. --set devices.count=500 (repeatable)")
	progress := fs.Duration("progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generator to this file (to study its own overhead)")
	memProfile := fs.String("memprofile", "", "write the generator's allocation profile to this file at the end of the run")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench run: give exactly one scenario file (e.g. fleetbench run scenarios/quickstart.yaml)")
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env, true)
	if sc == nil {
		return code
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "fleetbench run: --cpuprofile: %v\n", err)
			return ExitUsage
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(env.Stderr, "fleetbench run: --cpuprofile: %v\n", err)
			return ExitUsage
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer func() {
			pf, err := os.Create(*memProfile)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(pf, 0)
				pf.Close()
			}
			if err != nil {
				fmt.Fprintf(env.Stderr, "fleetbench run: --memprofile: %v\n", err)
			}
		}()
	}
	r := &runner{env: env, sc: sc, progress: *progress}
	return r.run(ctx, *out)
}

// loadScenario loads and validates a scenario, printing every problem;
// onHost also checks it against this machine (checkOnHost).
func loadScenario(path string, sets []string, env Env, onHost bool) (*scenario.Scenario, int) {
	sc, err := scenario.Load(path, sets)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		if errors.Is(err, scenario.ErrNotFound) {
			return nil, ExitInvalidScenario
		}
		return nil, ExitInvalidScenario
	}
	for _, w := range sc.Warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	if !onHost {
		return sc, ExitOK
	}
	if code := checkOnHost(sc, env); code != ExitOK {
		return nil, code
	}
	return sc, ExitOK
}

// runner carries one run from set-up to report.
type runner struct {
	env      Env
	sc       *scenario.Scenario
	progress time.Duration

	dir             string
	hub             *hub.Hub
	addr            string
	servicePassword string                                                     // the embedded hub's service identity, for a confirm consumer
	clientCert      func(index int, deviceID string) (*tls.Certificate, error) // per-device certificates
}

func (r *runner) run(ctx context.Context, outDir string) int {
	sc, env := r.sc, r.env
	embedded := sc.Target.Kind == scenario.TargetEmbedded

	warnings, err := sc.Preflight(scenario.Machine{FileLimit: env.FileLimit, PortLow: env.PortRange[0], PortHigh: env.PortRange[1]})
	for _, w := range warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return ExitRunFailed
	}

	started := time.Now()
	runID := started.UTC().Format("20060102-150405")
	if outDir == "" {
		outDir = filepath.Join("runs", sc.Name+"-"+runID)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench: cannot create the output directory %s: %v (choose another with --out)\n", outDir, err)
		return ExitRunFailed
	}
	r.dir = outDir
	scenarioBytes, _ := env.ReadFile(sc.File)
	sum := sha256.Sum256(scenarioBytes)
	if len(scenarioBytes) > 0 {
		_ = os.WriteFile(filepath.Join(outDir, "scenario.yaml"), scenarioBytes, 0o644)
	}

	tlsCfg, creds, err := r.setUpTarget()
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			fmt.Fprintf(env.Stderr, "%s: %v\n", sc.File, ce.err)
			return ExitInvalidScenario
		}
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return ExitRunFailed
	}
	if r.hub != nil {
		defer r.hub.Close()
	}

	rec := report.NewRecorder(report.RecorderConfig{LateAfter: sc.Publish.LateAfter})
	var runIDBytes [4]byte
	rand.Read(runIDBytes[:])
	runStamp := binary.BigEndian.Uint32(runIDBytes[:])
	var cf *confirmer
	if sc.Confirm != nil {
		if cf, err = r.startConfirm(ctx, runStamp); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench:", err)
			if ctx.Err() != nil {
				return ExitInterrupted
			}
			return ExitUnreachable
		}
	}
	cpu := newCPUMeter()
	var f *fleet.Fleet
	// While devices connect, the GC target follows the fleet's projected
	// heap (internal/gctune) unless GOGC is set in the environment.
	_, gogcSet := env.LookupEnv("GOGC")
	var gc *gctune.Tuner
	stopTuning := func() {
		if gc != nil {
			gc.Stop()
			gc = nil
		}
	}
	defer stopTuning()
	f, err = fleet.New(fleet.Config{
		Scenario: sc, Addr: r.addr, Endpoints: sc.Target.Endpoints, TLS: tlsCfg, Credentials: creds, Recorder: rec, ClientCert: r.clientCert,
		Run: binary.BigEndian.Uint32(runIDBytes[:]),
		OnPhase: func(p fleet.Phase) {
			cpu.mark(p, rec.Totals().ConnectAttempts)
			if p == fleet.PhaseConnect && !gogcSet {
				gc = gctune.Start(gctune.SteadyPercent, func() (int, int) { return f.Connected(), sc.Devices.Count })
			} else if p != fleet.PhaseConnect {
				stopTuning()
			}
			if p == fleet.PhaseConnect && cf != nil {
				// The run's clock starts now (f.Start is set): sample the
				// consumer on it, so its series and intervals line up with
				// the recorder's.
				start := f.Start()
				cf.watchLag(rec, func() time.Duration { return time.Since(start) })
			}
			if env.onPhase != nil {
				env.onPhase(p)
			}
		},
	})
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return ExitRunFailed
	}
	baseRSS := currentRSS()
	fmt.Fprintf(env.Stderr, "fleetbench: %s — %d devices → %s (%s), report in %s\n",
		sc.Name, sc.Devices.Count, r.addr, sc.Target.Kind, outDir)

	stopProgress := r.startProgress(rec, f, cpu)
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var abortReason string
	var watching sync.WaitGroup
	if sc.AbortOnFail {
		watching.Add(1)
		go func() {
			defer watching.Done()
			watchThresholds(runCtx, sc, rec, time.Now(), func(reason string) {
				abortReason = reason
				cancelRun()
			}, env.Stderr)
		}()
	}
	ph, runErr := f.Run(runCtx)
	cancelRun()
	watching.Wait()
	stopProgress()
	aborted := abortReason != "" && ctx.Err() == nil
	end := time.Since(f.Start())

	info := report.RunInfo{
		ID: filepath.Base(outDir), Scenario: sc.Name, ScenarioFile: sc.File,
		ScenarioSHA256: hex.EncodeToString(sum[:]), FleetbenchVersion: version, GoVersion: runtime.Version(),
		Started: started, Ended: time.Now(),
		ConnectPhaseMs: ms(ph.ConnectEnd), PublishPhaseMs: ms(ph.PublishEnd - ph.PublishStart),
		DrainPhaseMs: ms(ph.DrainEnd - ph.PublishEnd), Target: r.addr, TargetKind: sc.Target.Kind,
	}
	info.Hostname, _ = os.Hostname()
	s := report.Build(rec.Result(end), info, configEcho(sc))
	s.Interrupted = ph.Interrupted
	s.Errors = f.Errors()
	if aborted {
		s.Errors = append([]string{abortReason}, s.Errors...)
	}
	if r.hub != nil {
		hs := r.hub.Stats()
		s.Hub = &report.HubStats{Received: int64(hs.Received), Dropped: int64(hs.InflightDropped),
			Refused: int64(hs.Refused), Denied: int64(hs.DeniedPublish)}
	}
	if cf != nil {
		deadline := f.Start().Add(ph.PublishEnd + sc.Drain)
		if ctx.Err() != nil {
			deadline = time.Now() // interrupted: take what has arrived
		}
		if err := cf.finish(f, sc, deadline, s); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench: confirm:", err)
		}
	}
	s.Overhead = overhead(rec, s, cpu, baseRSS)
	if embedded {
		s.Notes = append(s.Notes, "the embedded hub ran in this process: the overhead figures include its cost (run `fleetbench hub` as its own process to measure the generator alone)")
	}

	thresholdsPassed := true
	s.Thresholds, thresholdsPassed = evaluateThresholds(sc, s)

	// Exit code: the most specific outcome wins. With thresholds, they are
	// the verdict on the run's errors; without, any error fails the run
	// (the reports' verdict, report.Summary.Verdict).
	code := ExitOK
	hadErrors := !s.Verdict().Passed
	switch {
	case errors.Is(runErr, fleet.ErrTargetUnreachable):
		fmt.Fprintln(env.Stderr, "fleetbench:", runErr)
		s.Errors = append([]string{runErr.Error()}, s.Errors...)
		code = ExitUnreachable
	case ph.Interrupted && !aborted:
		code = ExitInterrupted
	case runErr != nil && !aborted:
		fmt.Fprintln(env.Stderr, "fleetbench:", runErr)
		code = ExitRunFailed
	case len(sc.Thresholds) > 0 && !thresholdsPassed:
		code = ExitThresholds
	case len(sc.Thresholds) == 0 && hadErrors:
		code = ExitRunFailed
	}
	if err := r.writeReport(s); err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench: writing the report:", err)
		if code == ExitOK {
			code = ExitRunFailed
		}
	}
	switch {
	case code == ExitRunFailed && runErr == nil:
		fmt.Fprintln(env.Stderr, "fleetbench: the run had errors (failed connects or messages): see the report above")
	case code == ExitThresholds:
		fmt.Fprintln(env.Stderr, "fleetbench: thresholds failed: see the report above")
	}
	return code
}

// setUpTarget starts the embedded hub when the scenario asks for it and
// returns the devices' TLS configuration and credentials.
func (r *runner) setUpTarget() (*tls.Config, credential.Provider, error) {
	sc, env := r.sc, r.env
	if sc.Target.Kind == scenario.TargetEmbedded {
		if sc.Auth.Type != scenario.AuthAzureSAS {
			return nil, nil, &configError{fmt.Errorf("the embedded hub enforces IoT Hub rules: auth.type must be azure-sas (got %q)", sc.Auth.Type)}
		}
		key := make([]byte, 32)
		rand.Read(key)
		cfg := hub.Config{Dir: filepath.Join(r.dir, "hub"), HostName: sc.Auth.HubHost, AckDelay: sc.Target.AckDelay}
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

// configError is a set-up failure the scenario (or its environment) must
// fix: a missing key variable, an unreadable CA file. It exits like an
// invalid scenario.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// writeReport writes every output of the run into its directory (see
// docs/outputs.md), prints the text summary, and appends the Markdown
// summary to $GITHUB_STEP_SUMMARY when that is set.
func (r *runner) writeReport(s *report.Summary) error {
	err := output.WriteAll(r.dir, s)
	if path, ok := r.env.LookupEnv("GITHUB_STEP_SUMMARY"); ok && path != "" {
		if f, ferr := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); ferr != nil {
			err = errors.Join(err, fmt.Errorf("GITHUB_STEP_SUMMARY: %w", ferr))
		} else {
			err = errors.Join(err, report.WriteMarkdown(f, s), f.Close())
		}
	}
	return errors.Join(err, report.WriteText(r.env.Stdout, s))
}

func configEcho(sc *scenario.Scenario) report.ConfigEcho {
	c := report.ConfigEcho{
		Devices: sc.Devices.Count, QoS: int(sc.Publish.QoS), ConnectRate: sc.Connect.Rate,
		StartRate: sc.Publish.StartRate, PayloadBytes: sc.Publish.Payload.Size,
		MaxInFlight: sc.Publish.MaxInFlight, DurationMs: ms(sc.Duration), DrainMs: ms(sc.Drain),
		LateAfterMs: ms(sc.Publish.LateAfter),
	}
	if sc.Target.TLS.Enabled {
		c.TLSKeyExchange = sc.Target.TLS.KeyExchange
	}
	for _, st := range sc.Publish.Stages {
		c.Stages = append(c.Stages, report.StageEcho{DurationMs: ms(st.Duration), Rate: st.Rate})
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

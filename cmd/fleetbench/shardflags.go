package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	runlib "github.com/fleetbench/fleetbench/run"
)

// TokenEnv is where a run's token is read from (or --token-file), never
// from the command line.
const TokenEnv = "FLEETBENCH_RUN_TOKEN"

// shardFlags are run's flags for a sharded run (docs/scale.md).
type shardFlags struct {
	shard, coordinator, coordinatorCA, tokenFile, epoch, sha string
	procs, shards                                            int
	listen, tlsCert, tlsKey                                  string
	coordinatorWait                                          time.Duration
	registerTimeout                                          time.Duration
}

func (f *shardFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.shard, "shard", "", "run shard I of N (0-based), e.g. --shard 0/4, of a coordinated or merged run")
	fs.StringVar(&f.coordinator, "coordinator", "", "with --shard: the coordinator's URL (http://HOST:PORT or https://...)")
	fs.DurationVar(&f.coordinatorWait, "coordinator-wait", 0, "with --shard: wait up to this long for the coordinator to accept connections before registering (e.g. 5m, as on Kubernetes where pods start in any order)")
	fs.StringVar(&f.coordinatorCA, "coordinator-ca", "", "with --shard: CA file that signs an https coordinator's certificate")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the run's token (else $"+TokenEnv+"; never on the command line)")
	fs.StringVar(&f.epoch, "epoch", "", "with --shard and no --coordinator: the shared start, RFC 3339 with nanoseconds, alike for every shard")
	fs.StringVar(&f.sha, "scenario-sha256", "", "with --shard: the scenario hash to register with (set by --procs)")
	fs.IntVar(&f.procs, "procs", 0, "run as N shard processes on this machine, merged into one run")
	fs.IntVar(&f.shards, "shards", 0, "coordinate N remote shards that dial --listen")
	fs.StringVar(&f.listen, "listen", "", "with --shards: the coordinator's listen address, e.g. :7443")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "with --shards: the coordinator's TLS certificate (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "with --shards: the coordinator's TLS key (PEM)")
	fs.DurationVar(&f.registerTimeout, "register-timeout", time.Minute, "with --procs or --shards: how long every shard has to register before the run fails, naming the missing ones")
}

func (f *shardFlags) sharded() bool { return f.shard != "" || f.procs > 0 || f.shards > 0 }

// token reads the run's token from --token-file or the environment.
func (f *shardFlags) token(env Env) (string, error) {
	if f.tokenFile != "" {
		b, err := env.ReadFile(f.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("--token-file: %s is empty", f.tokenFile)
	}
	if t, ok := env.LookupEnv(TokenEnv); ok && t != "" {
		return t, nil
	}
	return "", fmt.Errorf("no run token: set $%s or give --token-file FILE (the same on the coordinator and every shard)", TokenEnv)
}

// run runs a shard or a coordinator; onMetricsFinal is Env.OnMetricsFinal
// for --metrics-addr (a coordinator serves the fleet's figures, a shard
// its own).
func (f *shardFlags) run(ctx context.Context, opts runlib.Options, env Env, onMetricsFinal func(addr string)) int {
	usage := func(msg string) int {
		fmt.Fprintln(env.Stderr, "fleetbench run:", msg)
		return ExitUsage
	}
	env.Stderr = &lockedWriter{w: env.Stderr} // shared by the coordinator's goroutines and its shards' copiers
	renv := runlib.Env{Stdout: env.Stdout, Stderr: env.Stderr, LookupEnv: env.LookupEnv, ReadFile: env.ReadFile,
		FileLimit: env.FileLimit, PortRange: env.PortRange, Hostname: os.Hostname, OnPhase: env.onPhase, OnMetricsFinal: onMetricsFinal}
	switch {
	case f.shard != "" && (f.procs > 0 || f.shards > 0):
		return usage("--shard runs one shard; --procs and --shards coordinate them: give one")
	case f.procs > 0 && f.shards > 0:
		return usage("give --procs N (shards on this machine) or --shards N (remote shards), not both")
	case f.shard != "":
		spec, err := parseShard(f.shard)
		if err != nil {
			return usage(err.Error())
		}
		so := &runlib.ShardOptions{Spec: spec, Coordinator: f.coordinator, ScenarioSHA256: f.sha, PID: os.Getpid()}
		if f.coordinator != "" {
			if so.Token, err = f.token(env); err != nil {
				return usage(err.Error())
			}
			if f.coordinatorCA != "" {
				pem, err := env.ReadFile(f.coordinatorCA)
				if err != nil {
					return usage("--coordinator-ca: " + err.Error())
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return usage("--coordinator-ca: " + f.coordinatorCA + " holds no PEM certificate")
				}
				so.TLS = &tls.Config{RootCAs: pool}
			}
			if f.coordinatorWait > 0 {
				if err := waitForCoordinator(ctx, f.coordinator, f.coordinatorWait, env); err != nil {
					fmt.Fprintln(env.Stderr, "fleetbench run:", err)
					return ExitRunFailed
				}
			}
		} else {
			if f.epoch == "" {
				return usage("--shard needs --coordinator URL, or --epoch (RFC 3339, the same for every shard) to run without one")
			}
			if so.Epoch, err = time.Parse(time.RFC3339Nano, f.epoch); err != nil {
				return usage("--epoch: " + err.Error() + " (e.g. 2026-05-01T12:00:00.000000000Z)")
			}
		}
		opts.Shard = so
		res := runlib.Run(ctx, opts, renv)
		return exitCode(res.Outcome)
	}

	n := max(f.procs, f.shards)
	if f.registerTimeout <= 0 {
		return usage(fmt.Sprintf("--register-timeout %s: give a positive duration, e.g. --register-timeout 2m", f.registerTimeout))
	}
	co := runlib.CoordinateOptions{Options: opts, Shards: n, RegisterTimeout: f.registerTimeout}
	if f.procs > 0 {
		co.Listen = "127.0.0.1:0"
		tok, err := f.token(env)
		if err != nil { // a local run makes its own
			b := make([]byte, 32)
			rand.Read(b)
			tok = hex.EncodeToString(b)
		}
		co.Token = tok
		co.Launch = func(spec runlib.LaunchSpec) (runlib.Launched, error) {
			p, err := launchShards(env.exe, opts.ScenarioFile, opts.Overrides, tok, spec, env)
			if err == nil && env.onShards != nil {
				env.onShards(p.PIDs())
			}
			return p, err
		}
	} else {
		if f.listen == "" {
			return usage("--shards N needs --listen ADDR (e.g. --listen :7443), the address shards dial")
		}
		var err error
		if co.Token, err = f.token(env); err != nil {
			return usage(err.Error())
		}
		co.Listen = f.listen
		if (f.tlsCert == "") != (f.tlsKey == "") {
			return usage("give --tls-cert and --tls-key together")
		}
		if f.tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
			if err != nil {
				return usage("--tls-cert/--tls-key: " + err.Error())
			}
			co.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	res := runlib.Coordinate(ctx, co, renv)
	return exitCode(res.Outcome)
}

// parseShard reads "I/N".
func parseShard(s string) (fleet.ShardSpec, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return fleet.ShardSpec{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. --shard 0/4", s)
	}
	return fleet.ShardSpec{Index: i, Count: n}, nil
}

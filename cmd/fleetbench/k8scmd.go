package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/fleetbench/fleetbench/kube"
	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/store"
)

// cmdK8s is `fleetbench k8s SCENARIO --shards N [...]`: it prints the
// Kubernetes objects of a sharded run (docs/kubernetes.md) for
// `kubectl apply -f -`.
func cmdK8s(args []string, env Env) int {
	fs := newFlagSet("k8s", "k8s SCENARIO --shards N [--image IMG] [--namespace NS] [--out URL] [--secret NAME] [--set path=value ...]", env)
	var o kube.Options
	fs.IntVar(&o.Shards, "shards", 0, "shard pods in the Indexed Job (required)")
	fs.StringVar(&o.Image, "image", kube.DefaultImage, "the fleetbench image (make image; docs/image.md)")
	fs.StringVar(&o.Namespace, "namespace", kube.DefaultNS, "the namespace of every object")
	fs.StringVar(&o.Name, "name", "", "the run's instance name, prefix of every object (default: from the scenario's name)")
	fs.StringVar(&o.Out, "out", "", "bucket URL for the results: the coordinator uploads the merged run, shard i its own to URL/shards/i (docs/storage.md)")
	fs.StringVar(&o.Secret, "secret", kube.DefaultSecret, "the Secret holding "+kube.TokenEnv+", the scenario's key variables and bucket credentials, each under its variable's name")
	var sets stringList
	fs.Var(&sets, "set", "override a scenario value, e.g. --set devices.count=500 (repeatable); the ConfigMap holds the result")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(fs, err, env)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.Stderr, "fleetbench k8s: give exactly one scenario file (e.g. fleetbench k8s scenarios/quickstart.yaml --shards 4)")
		return ExitUsage
	}
	if o.Shards < 1 {
		fmt.Fprintln(env.Stderr, "fleetbench k8s: --shards N is required (N >= 1): the shard pods of the Indexed Job")
		return ExitUsage
	}
	if o.Out != "" && !store.IsURL(o.Out) {
		fmt.Fprintf(env.Stderr, "fleetbench k8s: --out %q: want a bucket URL (s3://, azblob://, gs://): a pod's directory is gone with the pod\n", o.Out)
		return ExitUsage
	}
	sc, code := loadScenario(pos[0], sets, env, false)
	if sc == nil {
		return code
	}
	if sc.Target.Kind == scenario.TargetEmbedded {
		fmt.Fprintf(env.Stderr, "%s: target.kind: embedded runs the hub inside one process, which shard pods cannot share: point the scenario at your broker (target.kind: mqtt), or run `fleetbench hub` as its own Deployment (docs/kubernetes.md)\n", sc.File)
		return ExitInvalidScenario
	}
	data, _ := env.ReadFile(pos[0])
	if o.Scenario, err = scenario.Effective(pos[0], data, sets); err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitInvalidScenario
	}
	if o.Name == "" {
		o.Name = kube.NameFrom(sc.Name)
	}
	o.Devices, o.ConnectRate, o.PublishRate = sc.Devices.Count, sc.Connect.Rate, peakRate(sc)
	o.SecretEnvs = secretEnvs(sc)
	if err := o.Normalize(); err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench k8s:", err)
		return ExitUsage
	}
	y, err := kube.Render(kube.Build(o))
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench k8s:", err)
		return ExitRunFailed
	}
	env.Stdout.Write(y)
	return ExitOK
}

// peakRate is the scenario's highest fleet-wide publish rate, msg/s.
func peakRate(sc *scenario.Scenario) float64 {
	r := sc.Publish.StartRate
	for _, st := range sc.Publish.Stages {
		r = max(r, st.Rate)
	}
	return r
}

// secretEnvs are the environment variables the scenario reads its
// secrets from, each once.
func secretEnvs(sc *scenario.Scenario) []string {
	names := []string{sc.Auth.KeyEnv}
	if c := sc.Confirm; c != nil {
		names = append(names, c.PasswordEnv, c.AccessKeyEnv, c.AccessSecretEnv, c.ConnectionStringEnv)
	}
	var out []string
	seen := map[string]bool{kube.TokenEnv: true}
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// waitForCoordinator waits until the coordinator's address accepts a TCP
// connection, for at most wait: on Kubernetes a shard's pod may start
// before the coordinator's. It polls every half second; nothing signals
// a listener coming up on another machine.
func waitForCoordinator(ctx context.Context, coordinator string, wait time.Duration, env Env) error {
	u, err := url.Parse(coordinator)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--coordinator %q: want http://HOST:PORT or https://HOST:PORT", coordinator)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"https": "443"}[u.Scheme]+map[string]string{"http": "80"}[u.Scheme])
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	told := false
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if !told {
			fmt.Fprintf(env.Stderr, "fleetbench: waiting up to %s for the coordinator at %s (%v)\n", wait, coordinator, err)
			told = true
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("the coordinator at %s did not answer within --coordinator-wait %s: %v", coordinator, wait, err)
		case <-t.C:
		}
	}
}

package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/kube"
)

var updateDeploy = flag.Bool("update", false, "rewrite deploy/k8s/fleetbench.yaml from fleetbench k8s")

// The arguments deploy/k8s/fleetbench.yaml is rendered with (named in
// deploy/k8s/example-scenario.yaml and docs/kubernetes.md).
var deployArgs = []string{"k8s", "../../deploy/k8s/example-scenario.yaml", "--shards", "3", "--namespace", "loadtest",
	"--image", "ghcr.io/fleetbench/fleetbench:latest", "--out", "s3://perf-results/runs/example?region=eu-west-1"}

// deploy/k8s/fleetbench.yaml is what fleetbench k8s prints for the
// example: run `go test ./cmd/fleetbench -run K8sDeploy -update` after a
// change to the manifests.
func TestK8sDeployExampleUpToDate(t *testing.T) {
	r := run(t, context.Background(), Env{}, deployArgs...)
	if r.code != ExitOK {
		t.Fatalf("k8s: exit %d\n%s", r.code, r.stderr)
	}
	const golden = "../../deploy/k8s/fleetbench.yaml"
	header := "# Rendered by: fleetbench " + strings.ReplaceAll(strings.Join(deployArgs, " "), "../../", "") + "\n# Do not edit: re-render (go test ./cmd/fleetbench -run K8sDeploy -update).\n"
	if *updateDeploy {
		if err := os.WriteFile(golden, []byte(header+r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != header+r.stdout {
		t.Errorf("%s is out of date: run go test ./cmd/fleetbench -run K8sDeploy -update", golden)
	}
	objs, err := kube.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.Validate(objs); err != nil {
		t.Errorf("the example does not validate:\n%v", err)
	}
}

// Bad command lines and scenarios that cannot run on Kubernetes get a
// one-line error and their exit code.
func TestK8sRefuses(t *testing.T) {
	embedded := writeScenario(t, storageScenario)
	mqtt := "../../deploy/k8s/example-scenario.yaml"
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"k8s", mqtt}, ExitUsage, "--shards N is required"},
		{[]string{"k8s", mqtt, "--shards", "2", "--out", "/tmp/x"}, ExitUsage, "want a bucket URL"},
		{[]string{"k8s", mqtt, "--shards", "2", "--name", "Bad_Name"}, ExitUsage, "--name"},
		{[]string{"k8s", mqtt, "--shards", "4000"}, ExitUsage, "more shards than"},
		{[]string{"k8s", embedded, "--shards", "2"}, ExitInvalidScenario, "target.kind: embedded"},
	} {
		r := run(t, context.Background(), Env{}, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q on one line", c.args[1:], r.code, r.stderr, c.code, c.want)
		}
	}
}

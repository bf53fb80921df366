// Package kube renders the Kubernetes objects that run one fleetbench
// scenario as a coordinator and an Indexed Job of shards
// (docs/kubernetes.md): built from k8s.io/api types, written as the
// multi-document YAML `kubectl apply -f -` takes, and checked by a small
// validator for the rules the API server would refuse.
//
// Nothing here talks to a cluster; cmd/fleetbench's `k8s` command prints
// what Render returns.
package kube

import (
	"fmt"
	"regexp"
	"strings"
)

// Ports and paths inside the pods.
const (
	CoordinatorPort = 7443              // the coordinator's listen port (--listen :7443)
	MetricsPort     = 9464              // --metrics-addr :9464 on every pod
	ScenarioDir     = "/etc/fleetbench" // the ConfigMap's mount
	ScenarioKey     = "scenario.yaml"   // the ConfigMap's key: the effective scenario
	RunsDir         = "/runs"           // the image's workdir, an emptyDir
	TokenEnv        = "FLEETBENCH_RUN_TOKEN"
	IndexEnv        = "JOB_COMPLETION_INDEX" // set from the pod's completion-index annotation
	DefaultImage    = "ghcr.io/fleetbench/fleetbench:latest"
	DefaultSecret   = "fleetbench"
	DefaultNS       = "default"
	nonRootUID      = 65532 // the image's user (docs/image.md)
)

// Options say what to render. Name, Namespace, Image and Secret take
// their defaults in Normalize.
type Options struct {
	Name      string // instance: the prefix of every object's name and the app.kubernetes.io/instance label
	Namespace string
	Image     string
	Secret    string // the Secret every secret value is read from (by key = variable name)
	Shards    int    // shard pods, >= 1
	Out       string // bucket URL for results ("": kept in the pods' /runs only)

	Scenario []byte // the effective scenario (after --set), put in the ConfigMap verbatim

	Devices     int     // the scenario's fleet size
	ConnectRate float64 // fleet-wide connects per second
	PublishRate float64 // fleet-wide peak messages per second (the highest stage rate)

	// SecretEnvs are the scenario's own secret variables (auth.key_env,
	// confirm.*_env): each becomes an env var read from Secret by key.
	SecretEnvs []string
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// NameFrom turns a scenario name into a DNS-1123 label usable as the
// instance name ("Launch test 1" → "launch-test-1"), short enough for
// the longest object name built from it.
func NameFrom(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	n := strings.TrimRight(b.String(), "-")
	if len(n) > maxNameLen {
		n = strings.TrimRight(n[:maxNameLen], "-")
	}
	if n == "" {
		n = "fleetbench"
	}
	return n
}

// maxNameLen leaves room for "-coordinator" within a Service name's 63
// characters.
const maxNameLen = 63 - len("-coordinator")

// Normalize fills defaults and checks what cannot be rendered.
func (o *Options) Normalize() error {
	if o.Name == "" {
		o.Name = "fleetbench"
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNS
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Secret == "" {
		o.Secret = DefaultSecret
	}
	switch {
	case len(o.Name) > maxNameLen || !dnsLabel.MatchString(o.Name):
		return fmt.Errorf("--name %q: want a DNS label of at most %d characters: lower-case letters, digits and '-' (e.g. launch-test)", o.Name, maxNameLen)
	case !dnsLabel.MatchString(o.Namespace):
		return fmt.Errorf("--namespace %q: want a DNS label: lower-case letters, digits and '-'", o.Namespace)
	case len(o.Secret) > 253 || !dnsSubdomain.MatchString(o.Secret):
		return fmt.Errorf("--secret %q: want a Secret name: lower-case letters, digits, '-' and '.'", o.Secret)
	case o.Shards < 1:
		return fmt.Errorf("--shards %d: want at least 1", o.Shards)
	case o.Shards > o.Devices:
		return fmt.Errorf("--shards %d: more shards than the scenario's %d devices", o.Shards, o.Devices)
	}
	return nil
}

// Object names, all prefixed with the instance name.
func (o *Options) scenarioName() string    { return o.Name + "-scenario" }
func (o *Options) coordinatorName() string { return o.Name + "-coordinator" }
func (o *Options) shardsName() string      { return o.Name + "-shards" }

// CoordinatorURL is the coordinator Service's in-cluster URL that every
// shard dials.
func (o *Options) CoordinatorURL() string {
	return fmt.Sprintf("http://%s.%s.svc:%d", o.coordinatorName(), o.Namespace, CoordinatorPort)
}

// labels are the recommended app.kubernetes.io labels of one component.
func (o *Options) labels(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "fleetbench",
		"app.kubernetes.io/instance":  o.Name,
		"app.kubernetes.io/component": component,
	}
}

package kube

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func example(t *testing.T) []runtime.Object {
	t.Helper()
	o := Options{Name: "example", Namespace: "loadtest", Shards: 3, Out: "azblob://results/runs/x",
		Scenario: []byte("name: example\n"), Devices: 3000, ConnectRate: 300, PublishRate: 1500, SecretEnvs: []string{"FLEETBENCH_GROUP_KEY"}}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	y, err := Render(Build(o))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Decode(y) // strict: every rendered field is a k8s.io/api field
	if err != nil {
		t.Fatalf("the rendered objects do not decode strictly: %v\n%s", err, y)
	}
	return objs
}

// Decode refuses what the API server would not know: an unknown field,
// a misspelt one, an unknown kind.
func TestKubeDecodeIsStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completionsMode: Indexed}\n",
		"misplaced field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {}\n",
		"duplicate field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\ndata: {c: d}\n",
		"unknown kind":    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
	} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// The rendered objects pass the validator; each broken copy fails it
// with the field named.
func TestKubeValidateRendered(t *testing.T) {
	if err := Validate(example(t)); err != nil {
		t.Fatalf("rendered objects: %v", err)
	}
	shards := func(objs []runtime.Object) *batchv1.Job { return objs[3].(*batchv1.Job) }
	for _, c := range []struct {
		want   string
		break_ func(objs []runtime.Object)
	}{
		{"spec.completions: required when completionMode is Indexed", func(o []runtime.Object) { shards(o).Spec.Completions = nil }},
		{"spec.parallelism: 4 exceeds completions 3", func(o []runtime.Object) { shards(o).Spec.Parallelism = ptr(int32(4)) }},
		{"restartPolicy: \"Always\"", func(o []runtime.Object) { shards(o).Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }},
		{"containers[0].image: required", func(o []runtime.Object) { shards(o).Spec.Template.Spec.Containers[0].Image = "" }},
		{"env[FLEETBENCH_RUN_TOKEN]: a secret is inlined", func(o []runtime.Object) {
			e := &shards(o).Spec.Template.Spec.Containers[0].Env[1]
			e.Value, e.ValueFrom = "hunter2hunter2", nil
		}},
		{"securityContext: runAsNonRoot", func(o []runtime.Object) { shards(o).Spec.Template.Spec.SecurityContext.RunAsUser = ptr(int64(0)) }},
		{"readOnlyRootFilesystem: must be true", func(o []runtime.Object) {
			o[2].(*batchv1.Job).Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr(false)
		}},
		{"\"runs\" names no volume", func(o []runtime.Object) { shards(o).Spec.Template.Spec.Volumes = nil }},
		{"Service example-coordinator: spec.ports", func(o []runtime.Object) { o[1].(*corev1.Service).Spec.Ports = nil }},
	} {
		objs := example(t)
		c.break_(objs)
		err := Validate(objs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("broken copy: got %v, want an error containing %q", err, c.want)
		}
	}
}

// Requests follow the stated formula: memory (base + devices × per
// device) × margin, CPU from the busier phase × margin.
func TestKubeShardResources(t *testing.T) {
	r := ShardResources(10000, 100, 5000) // 5000 msg/s × 70 µs = 0.35 cores, × 1.5
	mem, cpu := r.Requests[corev1.ResourceMemory], r.Requests[corev1.ResourceCPU]
	if want := int64((64<<20 + 10000*20<<10) * 1.5); mem.Value() < want || mem.Value() > want+1<<20 {
		t.Errorf("memory %s, want about %d bytes", mem.String(), want)
	}
	if cpu.MilliValue() != 525 {
		t.Errorf("cpu %s, want 525m", cpu.String())
	}
	if _, ok := r.Limits[corev1.ResourceCPU]; ok {
		t.Error("a CPU limit would throttle the pacer")
	}
	if l := r.Limits[corev1.ResourceMemory]; l.Cmp(mem) != 0 {
		t.Errorf("memory limit %s, want the request %s", l.String(), mem.String())
	}
}

func TestKubeShardOut(t *testing.T) {
	for in, want := range map[string]string{
		"s3://b/runs/x?region=eu-west-1": "s3://b/runs/x/shards/2?region=eu-west-1",
		"azblob://c/runs/x/":             "azblob://c/runs/x/shards/2",
	} {
		if got := ShardOut(in, "2"); got != want {
			t.Errorf("ShardOut(%q) = %q, want %q", in, got, want)
		}
	}
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/kube"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/store"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

const k8sScenario = `
name: k8s-job
target:
  kind: mqtt
  endpoints: [%s]
  tls:
    server_name: 127.0.0.1
auth:
  type: azure-sas
  key_kind: group
  key_env: FLEETBENCH_GROUP_KEY
devices:
  count: 40
connect:
  rate: 200/s
publish:
  qos: 1
  stages:
    - duration: 3s
      rate: 200/s
drain: 2s
`

// The rendered Job, run without a cluster: for each shard index the
// container's args and env are taken from the manifests, the downward
// API and the Secret's values resolved as the kubelet would, the
// coordinator's Service name mapped to 127.0.0.1; the processes run
// against two `fleetbench hub` processes, upload to a real bucket
// (Azurite, then an S3 server), and the merged run read back from the
// bucket has the counts of a one-process run of the scenario.
func TestK8sJobRunsWithoutACluster(t *testing.T) {
	bin := fleetbenchBinary(t)
	hubDir := t.TempDir()
	p1, ca, key, host := startHubProcessIn(t, bin, hubDir)
	p2, _, key2, _ := startHubProcessIn(t, bin, hubDir)
	if key != key2 {
		t.Fatal("two hubs on one --dir have different keys")
	}
	file := writeScenario(t, fmt.Sprintf(k8sScenario, "127.0.0.1:"+p1+", 127.0.0.1:"+p2))
	sets := []string{"--set", "target.tls.ca_file=" + ca, "--set", "auth.hub_host=" + host}
	t.Setenv("FLEETBENCH_GROUP_KEY", key)
	one := filepath.Join(t.TempDir(), "one")
	if r := run(t, context.Background(), Env{LookupEnv: os.LookupEnv}, append([]string{"run", file, "--out", one, "--progress", "0"}, sets...)...); r.code != ExitOK {
		t.Fatalf("one process: exit %d\n%s", r.code, r.stderr)
	}
	want := readSummaryFile(t, one)
	secrets := map[string]string{"FLEETBENCH_RUN_TOKEN": "k8s-test-token-0123456789", "FLEETBENCH_GROUP_KEY": key}

	t.Run("azurite", func(t *testing.T) {
		az := testbed.StartAzurite(t)
		if err := az.CreateContainer(context.Background(), "results"); err != nil {
			t.Fatal(err)
		}
		s := clone(secrets)
		for k, v := range az.Env() {
			s[k] = v
			t.Setenv(k, v) // for store.Download here
		}
		runRenderedJob(t, bin, file, sets, az.BucketURL("results", "runs/k8s-job"), s, want)
	})
	t.Run("s3", func(t *testing.T) {
		s3 := testbed.StartS3(t, testbed.S3Options{})
		s := clone(secrets)
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
			s[k] = os.Getenv(k)
		}
		runRenderedJob(t, bin, file, sets, s3.URL("runs/k8s-job"), s, want)
	})
}

func clone(m map[string]string) map[string]string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

// runRenderedJob renders the scenario for 3 shards with --out out, runs
// the coordinator and every shard as the manifests say, and compares the
// merged run in the bucket with want.
func runRenderedJob(t *testing.T, bin, file string, sets []string, out string, secrets map[string]string, want *report.Summary) {
	const shards = 3
	r := run(t, context.Background(), Env{}, append([]string{"k8s", file, "--shards", strconv.Itoa(shards), "--namespace", "loadtest", "--out", out}, sets...)...)
	if r.code != ExitOK {
		t.Fatalf("k8s: exit %d\n%s", r.code, r.stderr)
	}
	objs, err := kube.Decode([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	var cm *corev1.ConfigMap
	var svc *corev1.Service
	var coordJob, shardJob *batchv1.Job
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			cm = o
		case *corev1.Service:
			svc = o
		case *batchv1.Job:
			if o.Spec.CompletionMode != nil && *o.Spec.CompletionMode == batchv1.IndexedCompletion {
				shardJob = o
			} else {
				coordJob = o
			}
		}
	}
	if cm == nil || svc == nil || coordJob == nil || shardJob == nil || *shardJob.Spec.Completions != shards {
		t.Fatalf("rendered objects: %d, want a ConfigMap, a Service, a coordinator Job and an Indexed Job of %d", len(objs), shards)
	}
	// The ConfigMap's volume, as the kubelet would project it.
	cmDir := t.TempDir()
	for k, v := range cm.Data {
		if err := os.WriteFile(filepath.Join(cmDir, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The Service's DNS name and port → 127.0.0.1 and a free port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	svcHost := svc.Name + "." + svc.Namespace + ".svc"

	pod := func(tmpl corev1.PodTemplateSpec, index int) *exec.Cmd {
		c := tmpl.Spec.Containers[0]
		if len(c.Command) != 0 {
			t.Fatalf("container command %q: want the image's entrypoint", c.Command)
		}
		vars := map[string]string{}
		var env []string
		for _, e := range c.Env {
			var v string
			switch {
			case e.ValueFrom == nil:
				v = expand(e.Value, vars)
			case e.ValueFrom.SecretKeyRef != nil:
				ref := e.ValueFrom.SecretKeyRef
				val, ok := secrets[ref.Key]
				if ref.Name != kube.DefaultSecret {
					t.Fatalf("env %s reads Secret %q, want %q", e.Name, ref.Name, kube.DefaultSecret)
				}
				if !ok {
					if ref.Optional != nil && *ref.Optional {
						continue
					}
					t.Fatalf("env %s: the Secret has no key %q and it is not optional (the pod would not start)", e.Name, ref.Key)
				}
				v = val
			case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']":
				v = strconv.Itoa(index)
			case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
				q := c.Resources.Limits[corev1.ResourceMemory]
				v = strconv.FormatInt(q.Value(), 10)
			default:
				t.Fatalf("env %s: a source this test cannot resolve: %+v", e.Name, e.ValueFrom)
			}
			vars[e.Name] = v
			env = append(env, e.Name+"="+v)
		}
		podDir, podTmp := t.TempDir(), t.TempDir()
		env = append(env, "PATH="+os.Getenv("PATH"), "HOME="+podTmp, "TMPDIR="+podTmp)
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			a = expand(a, vars)
			a = strings.Replace(a, kube.ScenarioDir+"/", cmDir+"/", 1)
			switch {
			case i > 0 && c.Args[i-1] == "--listen":
				a = "127.0.0.1:" + free
			case i > 0 && c.Args[i-1] == "--metrics-addr":
				a = "127.0.0.1:0"
			case i > 0 && c.Args[i-1] == "--coordinator":
				u, err := url.Parse(a)
				if err != nil || u.Hostname() != svcHost || u.Port() != strconv.Itoa(kube.CoordinatorPort) {
					t.Fatalf("--coordinator %q: want the Service %s:%d", a, svcHost, kube.CoordinatorPort)
				}
				a = "http://127.0.0.1:" + free
			case i > 0 && c.Args[i-1] == "--metrics-linger":
				a = "0s"
			}
			args[i] = a
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = podDir, env
		return cmd
	}

	type done struct {
		name string
		err  error
		out  []byte
	}
	ch := make(chan done, shards+1)
	start := func(name string, cmd *exec.Cmd) {
		var b strings.Builder
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { err := cmd.Wait(); ch <- done{name, err, []byte(b.String())} }()
	}
	// Shards first: pods start in any order, and they wait for the
	// coordinator (--coordinator-wait).
	for i := range shards {
		start(fmt.Sprintf("shard %d", i), pod(shardJob.Spec.Template, i))
	}
	start("coordinator", pod(coordJob.Spec.Template, 0))
	for range shards + 1 {
		d := <-ch
		if d.err != nil {
			t.Errorf("%s: %v\n%s", d.name, d.err, d.out)
		}
	}
	if t.Failed() {
		return
	}
	back := t.TempDir()
	if _, err := store.Download(context.Background(), out, back, store.Options{}); err != nil {
		t.Fatal(err)
	}
	got := readSummaryFile(t, back)
	if got.Publish.Due != want.Publish.Due || got.Publish.Sent != want.Publish.Sent || got.Publish.Acked != want.Publish.Acked || got.Publish.Sent == 0 {
		t.Errorf("due/sent/acked: one process %d/%d/%d, the Job %d/%d/%d",
			want.Publish.Due, want.Publish.Sent, want.Publish.Acked, got.Publish.Due, got.Publish.Sent, got.Publish.Acked)
	}
	if got.Connect.Connected != want.Connect.Connected || len(got.Shards) != shards || got.Partial {
		t.Errorf("connected %d (one process %d), shards %d, partial %v", got.Connect.Connected, want.Connect.Connected, len(got.Shards), got.Partial)
	}
	for i := range shards {
		dir := t.TempDir()
		if _, err := store.Download(context.Background(), kube.ShardOut(out, strconv.Itoa(i)), dir, store.Options{}); err != nil {
			t.Errorf("shard %d's upload: %v", i, err)
		} else if s := readSummaryFile(t, dir); s.Shard == nil || s.Shard.Index != i {
			t.Errorf("shard %d's uploaded summary: %+v", i, s.Shard)
		}
	}
}

// expand replaces $(NAME) with the variable's value, as the kubelet does
// in args and env values; an unknown name stays as it is.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "$("+k+")", v)
	}
	return s
}

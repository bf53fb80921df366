package kube

import (
	"path"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CoordinatorWait is how long a shard waits for the coordinator's
// Service to accept connections: pods start in any order.
const CoordinatorWait = "5m"

// Build returns the objects of one run, in the order to apply them: the
// scenario's ConfigMap, the coordinator's Service and Job, the shards'
// Indexed Job. Call Normalize first.
func Build(o Options) []runtime.Object {
	return []runtime.Object{o.configMap(), o.service(), o.coordinatorJob(), o.shardsJob()}
}

func (o *Options) meta(name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: o.labels(component)}
}

func (o *Options) configMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: o.meta(o.scenarioName(), "scenario"),
		Data:       map[string]string{ScenarioKey: string(o.Scenario)},
	}
}

// service exposes the coordinator's listen port to the shards and its
// metrics port to Prometheus.
func (o *Options) service() *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: o.meta(o.coordinatorName(), "coordinator"),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: o.labels("coordinator"),
			Ports: []corev1.ServicePort{
				{Name: "coordinator", Port: CoordinatorPort, TargetPort: intstr.FromString("coordinator"), Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: MetricsPort, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

func scenarioPath() string { return path.Join(ScenarioDir, ScenarioKey) }

// coordinatorJob runs `fleetbench run --shards N --listen :PORT` once:
// it merges the shards' finals and uploads the merged run.
func (o *Options) coordinatorJob() *batchv1.Job {
	args := []string{"run", scenarioPath(), "--shards", strconv.Itoa(o.Shards), "--listen", ":" + strconv.Itoa(CoordinatorPort),
		"--metrics-addr", ":" + strconv.Itoa(MetricsPort), "--metrics-linger", "1m"}
	if o.Out != "" {
		args = append(args, "--out", o.Out)
	}
	tmpl := o.podTemplate("coordinator", args, o.env(), CoordinatorResources(),
		[]corev1.ContainerPort{{Name: "coordinator", ContainerPort: CoordinatorPort, Protocol: corev1.ProtocolTCP}})
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: o.meta(o.coordinatorName(), "coordinator"),
		Spec: batchv1.JobSpec{
			Parallelism:  ptr(int32(1)),
			Completions:  ptr(int32(1)),
			BackoffLimit: ptr(int32(0)), // a second coordinator would find no shards
			Template:     tmpl,
		},
	}
}

// shardsJob is the Indexed Job of the shards: pod i runs `--shard i/N`.
// backoffLimitPerIndex 0: a failed shard is not retried (its devices'
// schedule is past) and, unlike backoffLimit 0, does not fail the Job,
// which would stop every other shard; the coordinator reports it lost.
func (o *Options) shardsJob() *batchv1.Job {
	n := int32(o.Shards)
	perShard := (o.Devices + o.Shards - 1) / o.Shards
	share := float64(perShard) / float64(o.Devices)
	args := []string{"run", scenarioPath(), "--shard", "$(" + IndexEnv + ")/" + strconv.Itoa(o.Shards),
		"--coordinator", o.CoordinatorURL(), "--coordinator-wait", CoordinatorWait,
		"--metrics-addr", ":" + strconv.Itoa(MetricsPort), "--metrics-linger", "1m"}
	if o.Out != "" {
		args = append(args, "--out", ShardOut(o.Out, "$("+IndexEnv+")"))
	}
	env := append([]corev1.EnvVar{{Name: IndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: "metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']"}}}}, o.env()...)
	tmpl := o.podTemplate("shard", args, env, ShardResources(perShard, o.ConnectRate*share, o.PublishRate*share), nil)
	sel := &metav1.LabelSelector{MatchLabels: o.labels("shard")}
	tmpl.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel,
	}}
	tmpl.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight:          100,
			PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: sel},
		}},
	}}
	mode := batchv1.IndexedCompletion
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: o.meta(o.shardsName(), "shard"),
		Spec: batchv1.JobSpec{
			CompletionMode:       &mode,
			Completions:          &n,
			Parallelism:          ptr(n),
			BackoffLimitPerIndex: ptr(int32(0)),
			Template:             tmpl,
		},
	}
}

// ShardOut is where shard index uploads its shard directory: the run's
// URL with /shards/INDEX appended to its path (before the query), as
// `fleetbench merge` expects (docs/storage.md).
func ShardOut(out, index string) string {
	base, query, hasQuery := strings.Cut(out, "?")
	u := strings.TrimRight(base, "/") + "/shards/" + index
	if hasQuery {
		u += "?" + query
	}
	return u
}

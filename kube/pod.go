package kube

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bucketEnvs are the variables the object-storage SDKs read credentials
// from (docs/storage.md), by URL scheme. Each is optional in the pod: a
// key missing from the Secret leaves it unset, for workload identity.
var bucketEnvs = map[string][]string{
	"azblob": {"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING"},
	"s3":     {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"},
	"gs":     {"GOOGLE_APPLICATION_CREDENTIALS"},
}

// secretEnv reads variable name from the Secret's key of the same name.
func (o *Options) secretEnv(name string, optional bool) corev1.EnvVar {
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: o.Secret}, Key: name}
	if optional {
		ref.Optional = ptr(true)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref}}
}

// env is a container's environment: the run token, the scenario's
// secrets, the bucket's credentials, all from the Secret; GOMEMLIMIT
// from the container's own memory limit, so the Go runtime collects
// before the kernel kills.
func (o *Options) env() []corev1.EnvVar {
	env := []corev1.EnvVar{o.secretEnv(TokenEnv, false)}
	for _, name := range o.SecretEnvs {
		env = append(env, o.secretEnv(name, false))
	}
	scheme, _, _ := strings.Cut(o.Out, "://")
	for _, name := range bucketEnvs[scheme] {
		env = append(env, o.secretEnv(name, true))
	}
	env = append(env, corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{
		ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "fleetbench", Resource: "limits.memory", Divisor: resource.MustParse("1")}}})
	return env
}

// podTemplate is what coordinator and shard pods share: the non-root,
// read-only container, its volumes, the scrape annotations.
func (o *Options) podTemplate(component string, args []string, env []corev1.EnvVar, res corev1.ResourceRequirements, ports []corev1.ContainerPort) corev1.PodTemplateSpec {
	ports = append(ports, corev1.ContainerPort{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP})
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: o.labels(component),
			Annotations: map[string]string{
				"prometheus.io/scrape": "true",
				"prometheus.io/port":   strconv.Itoa(MetricsPort),
				"prometheus.io/path":   "/metrics",
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr(false),
			EnableServiceLinks:            ptr(false),
			TerminationGracePeriodSeconds: ptr(int64(60)), // SIGTERM: drain and write the report
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr(true),
				RunAsUser:      ptr(int64(nonRootUID)),
				RunAsGroup:     ptr(int64(nonRootUID)),
				FSGroup:        ptr(int64(nonRootUID)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "fleetbench",
				Image:           o.Image,
				Args:            args,
				Env:             env,
				Ports:           ports,
				Resources:       res,
				WorkingDir:      RunsDir,
				ImagePullPolicy: corev1.PullIfNotPresent,
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot:             ptr(true),
					RunAsUser:                ptr(int64(nonRootUID)),
					ReadOnlyRootFilesystem:   ptr(true),
					AllowPrivilegeEscalation: ptr(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "scenario", MountPath: ScenarioDir, ReadOnly: true},
					{Name: "runs", MountPath: RunsDir},
					{Name: "tmp", MountPath: "/tmp"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: o.scenarioName()}}}},
				{Name: "runs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

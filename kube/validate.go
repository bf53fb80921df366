package kube

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks objects for what the API server would refuse for these
// kinds (a subset of k8s.io/kubernetes/pkg/apis/*/validation, which is
// not importable as a library: it pulls in the whole of Kubernetes) and
// for this project's own rules: non-root, read-only root file system, no
// secret value inlined in an environment variable. It returns every
// problem at once, each naming the object and field.
func Validate(objs []runtime.Object) error {
	var errs []error
	add := func(obj, field, msg string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", obj, field, fmt.Sprintf(msg, args...)))
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			id := "ConfigMap " + o.Name
			checkMeta(id, o.Name, o.Labels, add)
			for k := range o.Data {
				if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
					add(id, "data["+k+"]", "%s", strings.Join(msgs, "; "))
				}
			}
		case *corev1.Service:
			id := "Service " + o.Name
			checkMeta(id, o.Name, o.Labels, add)
			if len(o.Name) > 63 || !dnsLabel.MatchString(o.Name) {
				add(id, "metadata.name", "a Service name must be a DNS label")
			}
			if len(o.Spec.Ports) == 0 {
				add(id, "spec.ports", "required")
			}
			names := map[string]bool{}
			for i, p := range o.Spec.Ports {
				f := fmt.Sprintf("spec.ports[%d]", i)
				if p.Port < 1 || p.Port > 65535 {
					add(id, f+".port", "%d is not a port", p.Port)
				}
				if len(o.Spec.Ports) > 1 && p.Name == "" {
					add(id, f+".name", "required when a Service has several ports")
				}
				if names[p.Name] {
					add(id, f+".name", "duplicate %q", p.Name)
				}
				names[p.Name] = true
			}
		case *batchv1.Job:
			checkJob(o, add)
		default:
			add(fmt.Sprintf("%T", o), "kind", "not one this package renders")
		}
	}
	return errors.Join(errs...)
}

func checkMeta(id, name string, labels map[string]string, add func(obj, field, msg string, args ...any)) {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		add(id, "metadata.name", "%s", strings.Join(msgs, "; "))
	}
	for k, v := range labels {
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			add(id, "metadata.labels["+k+"]", "%s", strings.Join(msgs, "; "))
		}
	}
}

func checkJob(j *batchv1.Job, add func(obj, field, msg string, args ...any)) {
	id := "Job " + j.Name
	checkMeta(id, j.Name, j.Labels, add)
	s := j.Spec
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if indexed && s.Completions == nil {
		add(id, "spec.completions", "required when completionMode is Indexed")
	}
	if s.Parallelism != nil && *s.Parallelism < 0 || s.Completions != nil && *s.Completions < 0 || s.BackoffLimit != nil && *s.BackoffLimit < 0 {
		add(id, "spec", "parallelism, completions and backoffLimit must not be negative")
	}
	if s.Parallelism != nil && s.Completions != nil && *s.Parallelism > *s.Completions {
		add(id, "spec.parallelism", "%d exceeds completions %d: the extra pods would never run", *s.Parallelism, *s.Completions)
	}
	if s.BackoffLimitPerIndex != nil {
		if !indexed {
			add(id, "spec.backoffLimitPerIndex", "requires completionMode Indexed")
		}
		if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			add(id, "spec.backoffLimitPerIndex", "requires restartPolicy Never")
		}
	}
	if s.Selector != nil || s.ManualSelector != nil {
		add(id, "spec.selector", "leave it to the Job controller")
	}
	checkPod(id, s.Template, add)
}

// secretLike are environment variable names whose value must come from a
// Secret, never from the manifest.
var secretLike = regexp.MustCompile(`(?i)(TOKEN|KEY|SECRET|PASSWORD|CONNECTION_?STRING|CREDENTIALS)`)

func checkPod(id string, t corev1.PodTemplateSpec, add func(obj, field, msg string, args ...any)) {
	p := t.Spec
	f := "spec.template.spec"
	switch p.RestartPolicy {
	case corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure:
	default:
		add(id, f+".restartPolicy", "%q: a Job's pods must be Never or OnFailure", p.RestartPolicy)
	}
	if len(p.Containers) == 0 {
		add(id, f+".containers", "required")
	}
	if sc := p.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		add(id, f+".securityContext", "runAsNonRoot true with a non-zero runAsUser")
	}
	volumes := map[string]bool{}
	for _, v := range p.Volumes {
		if volumes[v.Name] {
			add(id, f+".volumes", "duplicate %q", v.Name)
		}
		volumes[v.Name] = true
	}
	for i, c := range p.Containers {
		cf := fmt.Sprintf("%s.containers[%d]", f, i)
		if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
			add(id, cf+".name", "%s", strings.Join(msgs, "; "))
		}
		if strings.TrimSpace(c.Image) == "" {
			add(id, cf+".image", "required")
		}
		if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add(id, cf+".securityContext.readOnlyRootFilesystem", "must be true")
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				add(id, cf+".volumeMounts", "%q names no volume", m.Name)
			}
		}
		ports := map[string]bool{}
		for _, port := range c.Ports {
			if port.ContainerPort < 1 || port.ContainerPort > 65535 {
				add(id, cf+".ports", "%d is not a port", port.ContainerPort)
			}
			if port.Name != "" {
				if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 || ports[port.Name] {
					add(id, cf+".ports", "name %q: %s", port.Name, strings.Join(append(msgs, "must be unique"), "; "))
				}
				ports[port.Name] = true
			}
		}
		for res, q := range c.Resources.Requests {
			if l, ok := c.Resources.Limits[res]; ok && q.Cmp(l) > 0 {
				add(id, cf+".resources.requests["+string(res)+"]", "%s exceeds the limit %s", q.String(), l.String())
			}
		}
		for _, e := range c.Env {
			ef := cf + ".env[" + e.Name + "]"
			if msgs := validation.IsEnvVarName(e.Name); len(msgs) > 0 {
				add(id, ef, "%s", strings.Join(msgs, "; "))
			}
			switch {
			case e.Value != "" && e.ValueFrom != nil:
				add(id, ef, "value and valueFrom are exclusive")
			case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && (e.ValueFrom.SecretKeyRef.Name == "" || e.ValueFrom.SecretKeyRef.Key == ""):
				add(id, ef+".valueFrom.secretKeyRef", "name and key are required")
			case e.Value != "" && secretLike.MatchString(e.Name):
				add(id, ef, "a secret is inlined: read it from a Secret with valueFrom.secretKeyRef")
			}
		}
	}
}

package podspec

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Labels a controller puts on its pods besides the template's: they name the revision, not what runs.
const daemonSetTemplateGenerationLabel = "pod-template-generation"

// Difference is how a pod differs from the pod wanted in its place.
type Difference struct {
	// Images are the containers (regular or init, by name) whose image alone differs, with the wanted image.
	Images map[string]string
	// Fields name the other parts that differ ("metadata.labels", "spec.containers[agent]", "spec.volumes", ...),
	// sorted; empty when only images (or nothing) differ.
	Fields []string
}

// Same reports whether nothing differs: the pod can be moved to the wanted revision by relabelling it.
func (d Difference) Same() bool { return len(d.Images) == 0 && len(d.Fields) == 0 }

// ImagesOnly reports whether only container images differ.
func (d Difference) ImagesOnly() bool { return len(d.Images) > 0 && len(d.Fields) == 0 }

// String describes the difference for messages.
func (d Difference) String() string {
	var parts []string
	names := make([]string, 0, len(d.Images))
	for name := range d.Images {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("image of container %s", name))
	}
	parts = append(parts, d.Fields...)
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// CompareTemplates compares two effective templates (a revision's template with the node's override applied), for
// instance the one a pod was created from and the one the update revision gives its node.
func CompareTemplates(have, want *corev1.PodTemplateSpec) Difference {
	a, b := normalizedTemplate(have), normalizedTemplate(want)
	return compare(a, b)
}

// ComparePods compares a live pod with the pod the controller would create in its place (built by placement with
// the same node pin and default tolerations). What the API server added to the live pod, and the revision labels
// and annotations of both controllers, are left out.
func ComparePods(live, want *corev1.Pod) Difference {
	return compare(normalizedPod(live), normalizedPod(want))
}

func normalizedTemplate(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	out := t.DeepCopy()
	out.CreationTimestamp = metav1Zero
	defaultPodSpec(&out.Spec)
	return out
}

func normalizedPod(pod *corev1.Pod) *corev1.PodTemplateSpec {
	out := &corev1.PodTemplateSpec{}
	out.Labels = copyWithout(pod.Labels, v1alpha1.ControllerRevisionHashLabel, daemonSetTemplateGenerationLabel)
	out.Annotations = copyWithout(pod.Annotations, v1alpha1.NodeOverrideAnnotation,
		v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation)
	out.Finalizers = append([]string(nil), pod.Finalizers...)
	out.Spec = *pod.Spec.DeepCopy()
	spec := &out.Spec
	// Set by the scheduler (or by the user's template, which the node pin then agrees with); the pin says where the
	// pod goes.
	spec.NodeName = ""
	removeServiceAccountTokenVolume(spec)
	defaultPodSpec(spec)
	return out
}

func compare(a, b *corev1.PodTemplateSpec) Difference {
	var d Difference
	if equality.Semantic.DeepEqual(a, b) {
		return d
	}
	if !equality.Semantic.DeepEqual(emptyNil(a.Labels), emptyNil(b.Labels)) {
		d.Fields = append(d.Fields, "metadata.labels")
	}
	if !equality.Semantic.DeepEqual(emptyNil(a.Annotations), emptyNil(b.Annotations)) {
		d.Fields = append(d.Fields, "metadata.annotations")
	}
	if !equality.Semantic.DeepEqual(a.Finalizers, b.Finalizers) {
		d.Fields = append(d.Fields, "metadata.finalizers")
	}
	sa, sb := a.Spec.DeepCopy(), b.Spec.DeepCopy()
	compareContainers(&d, "initContainers", sa.InitContainers, sb.InitContainers)
	compareContainers(&d, "containers", sa.Containers, sb.Containers)
	sa.InitContainers, sb.InitContainers, sa.Containers, sb.Containers = nil, nil, nil, nil
	if !equality.Semantic.DeepEqual(sa, sb) {
		d.Fields = append(d.Fields, specFieldsDiffering(sa, sb)...)
	}
	sort.Strings(d.Fields)
	return d
}

func compareContainers(d *Difference, field string, have, want []corev1.Container) {
	if len(have) != len(want) {
		d.Fields = append(d.Fields, "spec."+field)
		return
	}
	for i := range have {
		h, w := have[i], want[i]
		if h.Name != w.Name {
			d.Fields = append(d.Fields, "spec."+field)
			return
		}
		if h.Image != w.Image {
			if d.Images == nil {
				d.Images = map[string]string{}
			}
			d.Images[w.Name] = w.Image
			h.Image = w.Image
		}
		if !equality.Semantic.DeepEqual(h, w) {
			d.Fields = append(d.Fields, fmt.Sprintf("spec.%s[%s]", field, w.Name))
		}
	}
}

func emptyNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func copyWithout(m map[string]string, drop ...string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

package placement

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// OverrideMatcher picks the spec.nodeOverrides entry that applies to a node. Building it parses every selector once.
type OverrideMatcher struct {
	overrides []v1alpha1.NodeOverride
	selectors []labels.Selector // nil where the selector does not parse: that entry matches no node
}

// NewOverrideMatcher prepares the override lookup for a list of overrides (a set's spec or a revision's).
func NewOverrideMatcher(overrides []v1alpha1.NodeOverride) *OverrideMatcher {
	m := &OverrideMatcher{overrides: overrides, selectors: make([]labels.Selector, len(overrides))}
	for i := range overrides {
		if sel, err := metav1.LabelSelectorAsSelector(&overrides[i].NodeSelector); err == nil {
			m.selectors[i] = sel
		}
	}
	return m
}

// For returns the first override whose node selector matches the node's labels, nil when none does.
func (m *OverrideMatcher) For(node *corev1.Node) *v1alpha1.NodeOverride {
	if m == nil {
		return nil
	}
	set := labels.Set(node.Labels)
	for i, sel := range m.selectors {
		if sel != nil && sel.Matches(set) {
			return &m.overrides[i]
		}
	}
	return nil
}

// Named returns the override of that name, nil for "" or a name not in the list.
func (m *OverrideMatcher) Named(name string) *v1alpha1.NodeOverride {
	if m == nil || name == "" {
		return nil
	}
	for i := range m.overrides {
		if m.overrides[i].Name == name {
			return &m.overrides[i]
		}
	}
	return nil
}

// OverrideName is the name of an override, "" for none.
func OverrideName(o *v1alpha1.NodeOverride) string {
	if o == nil {
		return ""
	}
	return o.Name
}

// PodOverride is the override a pod was made with, from its NodeOverrideAnnotation; "" for none.
func PodOverride(pod *corev1.Pod) string {
	return pod.Annotations[v1alpha1.NodeOverrideAnnotation]
}

// ApplyOverride returns the template with the override applied: for each container the override names (regular or
// init), the requests and limits it gives replace the template's of the same resource name, and its env
// variables replace the template's of the same name in place or are appended in the override's order. Containers
// the template does not have are ignored (the admission webhook rejects them). A nil override returns template
// itself; otherwise template is not modified and the result is a copy.
func ApplyOverride(template *corev1.PodTemplateSpec, o *v1alpha1.NodeOverride) *corev1.PodTemplateSpec {
	if o == nil {
		return template
	}
	out := template.DeepCopy()
	for i := range o.Containers {
		co := &o.Containers[i]
		if c := containerNamed(&out.Spec, co.Name); c != nil {
			overrideContainer(c, co)
		}
	}
	return out
}

func containerNamed(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	for i := range spec.InitContainers {
		if spec.InitContainers[i].Name == name {
			return &spec.InitContainers[i]
		}
	}
	return nil
}

func overrideContainer(c *corev1.Container, co *v1alpha1.ContainerOverride) {
	if r := co.Resources; r != nil {
		c.Resources.Requests = mergeResources(c.Resources.Requests, r.Requests)
		c.Resources.Limits = mergeResources(c.Resources.Limits, r.Limits)
		if len(r.Claims) > 0 {
			c.Resources.Claims = append([]corev1.ResourceClaim(nil), r.Claims...)
		}
	}
	for _, env := range co.Env {
		replaced := false
		for i := range c.Env {
			if c.Env[i].Name == env.Name {
				c.Env[i] = *env.DeepCopy()
				replaced = true
				break
			}
		}
		if !replaced {
			c.Env = append(c.Env, *env.DeepCopy())
		}
	}
}

func mergeResources(base, over corev1.ResourceList) corev1.ResourceList {
	if len(over) == 0 {
		return base
	}
	out := make(corev1.ResourceList, len(base)+len(over))
	for k, v := range base {
		out[k] = v.DeepCopy()
	}
	for k, v := range over {
		out[k] = v.DeepCopy()
	}
	return out
}

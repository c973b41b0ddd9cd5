package placement

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func overrideFor(name string, selector map[string]string, co ...v1alpha1.ContainerOverride) v1alpha1.NodeOverride {
	return v1alpha1.NodeOverride{Name: name, NodeSelector: metav1.LabelSelector{MatchLabels: selector}, Containers: co}
}

func TestOverrideMatcherFirstMatchWins(t *testing.T) {
	m := NewOverrideMatcher([]v1alpha1.NodeOverride{
		overrideFor("gpu", map[string]string{"gpu": "true"}),
		{Name: "broken", NodeSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Like"}}}},
		overrideFor("large", map[string]string{"size": "large"}),
		overrideFor("rest", nil),
	})
	for _, tt := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"gpu": "true", "size": "large"}, "gpu"},
		{map[string]string{"size": "large"}, "large"},
		{map[string]string{"size": "small"}, "rest"},
	} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: tt.labels}}
		if got := OverrideName(m.For(node)); got != tt.want {
			t.Errorf("labels %v: override %q, want %q", tt.labels, got, tt.want)
		}
	}
	if m.Named("large") == nil || m.Named("") != nil || m.Named("unknown") != nil {
		t.Error("Named finds the wrong overrides")
	}
	var none *OverrideMatcher
	if none.For(&corev1.Node{}) != nil {
		t.Error("a nil matcher matched")
	}
}

func TestApplyOverride(t *testing.T) {
	template := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}},
		Containers: []corev1.Container{{
			Name: "agent",
			Env:  []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
			},
		}, {Name: "sidecar"}},
	}}
	o := overrideFor("large", nil,
		v1alpha1.ContainerOverride{Name: "agent",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
			Env: []corev1.EnvVar{{Name: "B", Value: "20"}, {Name: "C", Value: "3"}}},
		v1alpha1.ContainerOverride{Name: "init", Env: []corev1.EnvVar{{Name: "X", Value: "x"}}},
		v1alpha1.ContainerOverride{Name: "gone", Env: []corev1.EnvVar{{Name: "Y", Value: "y"}}},
	)
	before := template.DeepCopy()
	got := ApplyOverride(template, &o)
	if !equality.Semantic.DeepEqual(template, before) {
		t.Error("the template was modified")
	}
	agent := got.Spec.Containers[0]
	wantEnv := []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "20"}, {Name: "C", Value: "3"}}
	if !equality.Semantic.DeepEqual(agent.Env, wantEnv) {
		t.Errorf("env = %v, want %v", agent.Env, wantEnv)
	}
	wantResources := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
	if !equality.Semantic.DeepEqual(agent.Resources, wantResources) {
		t.Errorf("resources = %v, want %v", agent.Resources, wantResources)
	}
	if !equality.Semantic.DeepEqual(got.Spec.InitContainers[0].Env, []corev1.EnvVar{{Name: "X", Value: "x"}}) {
		t.Errorf("init container env = %v", got.Spec.InitContainers[0].Env)
	}
	if !equality.Semantic.DeepEqual(got.Spec.Containers[1], template.Spec.Containers[1]) {
		t.Error("a container the override does not name changed")
	}
	if ApplyOverride(template, nil) != template {
		t.Error("no override must return the template itself")
	}
}

func TestNewPodWithOverride(t *testing.T) {
	set := &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ops", UID: "uid"}}
	set.Spec.Template.Annotations = map[string]string{"a": "b"}
	set.Spec.Template.Spec.Containers = []corev1.Container{{Name: "agent"}}
	o := overrideFor("large", nil, v1alpha1.ContainerOverride{Name: "agent", Env: []corev1.EnvVar{{Name: "C", Value: "3"}}})
	pod := NewPodWithOverride(set, &set.Spec.Template, &o, "node-1", "h1")
	if pod.Annotations[v1alpha1.NodeOverrideAnnotation] != "large" || pod.Annotations["a"] != "b" || len(pod.Spec.Containers[0].Env) != 1 {
		t.Errorf("pod = %+v", pod)
	}
	if _, ok := set.Spec.Template.Annotations[v1alpha1.NodeOverrideAnnotation]; ok {
		t.Error("the template's annotations were modified")
	}
	if plain := NewPodWithOverride(set, &set.Spec.Template, nil, "node-1", "h1"); plain.Annotations[v1alpha1.NodeOverrideAnnotation] != "" {
		t.Errorf("a pod without override carries %v", plain.Annotations)
	}
}

package describe

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestNodeOverrides(t *testing.T) {
	if got := NodeOverrides(nil); got != "" {
		t.Errorf("no overrides printed %q, want nothing", got)
	}
	got := NodeOverrides([]v1alpha1.NodeOverride{{
		Name:         "large",
		NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"node.kubernetes.io/instance-type": "m7i.8xlarge"}},
		Containers: []v1alpha1.ContainerOverride{{
			Name: "agent",
			Resources: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
			},
			Env: []corev1.EnvVar{{Name: "GOMAXPROCS", Value: "8"}},
		}},
	}, {Name: "rest", Containers: []v1alpha1.ContainerOverride{{Name: "agent"}}}})
	want := `Node Overrides:
  large:
    Node-Selector:  node.kubernetes.io/instance-type=m7i.8xlarge
    Container agent:
      Limits:
        memory:  2Gi
      Requests:
        cpu:     500m
        memory:  1Gi
      Environment:
        GOMAXPROCS:  8
  rest:
    Node-Selector:  <every node>
    Container agent:
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

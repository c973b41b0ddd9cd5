package admission

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission/admissiontest"
)

func TestWarningsForGoodManifests(t *testing.T) {
	for _, tc := range admissiontest.GoodCases() {
		t.Run(tc.Name, func(t *testing.T) {
			set := tc.Manifest()
			Default(set)
			if diff := cmp.Diff(tc.WantWarnings, Warnings(set)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	surge := func(value intstr.IntOrString) func(*v1alpha1.NodeAgentSet) {
		return func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{MaxSurge: &value}
		}
	}
	tests := []struct {
		name   string
		mutate []func(*v1alpha1.NodeAgentSet)
		want   []string
	}{
		{
			name: "host network ports with a surge",
			mutate: []func(*v1alpha1.NodeAgentSet){surge(intstr.FromString("10%")), func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.HostNetwork = true
				s.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9100, HostPort: 9100}}
			}},
			want: []string{
				"spec.template.spec.containers[0].ports[0].containerPort: port 8080 on the host network with " +
					"spec.updateStrategy.rollingUpdate.maxSurge 10%: the surge pod cannot start while the old pod on the " +
					"same node holds the port, so the rollout will not progress; use maxUnavailable instead",
				"spec.template.spec.containers[0].ports[1].hostPort: host port 9100 with " +
					"spec.updateStrategy.rollingUpdate.maxSurge 10%: the surge pod cannot start while the old pod on the " +
					"same node holds the port, so the rollout will not progress; use maxUnavailable instead",
			},
		},
		{
			name: "sidecar host port with a surge",
			mutate: []func(*v1alpha1.NodeAgentSet){surge(intstr.FromInt32(1)), func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.InitContainers = []corev1.Container{{
					Name: "proxy", Image: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
					Ports: []corev1.ContainerPort{{ContainerPort: 15000, HostPort: 15000}},
				}}
			}},
			want: []string{
				"spec.template.spec.initContainers[0].ports[0].hostPort: host port 15000 with " +
					"spec.updateStrategy.rollingUpdate.maxSurge 1: the surge pod cannot start while the old pod on the " +
					"same node holds the port, so the rollout will not progress; use maxUnavailable instead",
			},
		},
		{
			name: "host port with a zero surge",
			mutate: []func(*v1alpha1.NodeAgentSet){surge(intstr.FromString("0%")), func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
			}},
		},
		{
			name: "host port under OnDelete",
			mutate: []func(*v1alpha1.NodeAgentSet){func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
				s.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
			}},
		},
		{
			name: "toleration of every NoExecute taint",
			mutate: []func(*v1alpha1.NodeAgentSet){func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Tolerations = []corev1.Toleration{
					{Key: "dedicated", Operator: corev1.TolerationOpExists},
					{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				}
			}},
			want: []string{
				"spec.template.spec.tolerations[1]: an empty key with operator Exists and effect NoExecute tolerates " +
					"every NoExecute taint, so no taint evicts the pods (not even one that takes a node out of service)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := admissiontest.ValidSet()
			for _, mutate := range tc.mutate {
				mutate(set)
			}
			Default(set)
			if errs := Validate(set); len(errs) != 0 {
				t.Fatalf("the manifest must be valid, got:\n%s", errorLines(errs))
			}
			if diff := cmp.Diff(tc.want, Warnings(set)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

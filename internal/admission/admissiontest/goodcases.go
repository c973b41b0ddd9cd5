package admissiontest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Warnings the good cases expect, as Warnings words them.
const (
	hostPortSurgeWarning = "spec.template.spec.containers[0].ports[0].hostPort: host port 9100 with " +
		"spec.updateStrategy.rollingUpdate.maxSurge 1: the surge pod cannot start while the old pod on the same node " +
		"holds the port, so the rollout will not progress; use maxUnavailable instead"
	tolerateEverythingWarning = "spec.template.spec.tolerations[0]: an empty key with operator Exists tolerates " +
		"every taint, including NoExecute taints, so no taint evicts the pods (not even one that takes a node out of " +
		"service)"
	onDeleteRollingUpdateWarning = "spec.updateStrategy.rollingUpdate: ignored while spec.updateStrategy.type is OnDelete"
)

// GoodCases returns manifests that must be accepted, with the defaults and warnings each gets.
func GoodCases() []GoodCase {
	return []GoodCase{
		{
			Case:                     Case{"minimal manifest", nil},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"only maxSurge", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, percentBound("25%"))
			}},
			WantStrategy:             rollingUpdate(intBound(0), percentBound("25%")),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"only maxSurge, strategy type left out", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{MaxSurge: intBound(2)}
			}},
			WantStrategy:             rollingUpdate(intBound(0), intBound(2)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"only maxSurge 0", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, intBound(0))
			}},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"only maxUnavailable", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(percentBound("20%"), nil)
			}},
			WantStrategy:             rollingUpdate(percentBound("20%"), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"everything set is kept", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(0), percentBound("100%"))
				s.Spec.UpdateStrategy.RollingUpdate.Paused = true
				s.Spec.UpdateStrategy.RollingUpdate.Partition = percentBound("50%")
				s.Spec.RevisionHistoryLimit = ptr.To[int32](0)
				s.Spec.MinReadySeconds = 30
			}},
			WantStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type: v1alpha1.RollingUpdateStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{
					MaxUnavailable: intBound(0), MaxSurge: percentBound("100%"), Paused: true, Partition: percentBound("50%"),
				},
			},
			WantRevisionHistoryLimit: 0,
		},
		{
			Case: Case{"OnDelete", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
			}},
			WantStrategy:             v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType},
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"OnDelete with rollingUpdate is warned about", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(2), nil)
				s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
			}},
			WantStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type:          v1alpha1.OnDeleteStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{MaxUnavailable: intBound(2)},
			},
			WantRevisionHistoryLimit: 10,
			WantWarnings:             []string{onDeleteRollingUpdateWarning},
		},
		{
			// The rules on how the bounds go together are a rolling update's; OnDelete ignores the bounds.
			Case: Case{"OnDelete with both bounds zero is warned about, not refused", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(0), percentBound("0%"))
				s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
			}},
			WantStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type:          v1alpha1.OnDeleteStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{MaxUnavailable: intBound(0), MaxSurge: percentBound("0%")},
			},
			WantRevisionHistoryLimit: 10,
			WantWarnings:             []string{onDeleteRollingUpdateWarning},
		},
		{
			// IsValidPercent allows leading zeros, and so does the CRD's at-most-100% rule.
			Case: Case{"percents with leading zeros", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, percentBound("0100%"))
				s.Spec.UpdateStrategy.RollingUpdate.Partition = percentBound("007%")
			}},
			WantStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type: v1alpha1.RollingUpdateStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{
					MaxUnavailable: intBound(0), MaxSurge: percentBound("0100%"), Partition: percentBound("007%"),
				},
			},
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"hostPort with maxSurge is warned about", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, intBound(1))
				podSpec(s).Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, HostPort: 9100}}
			}},
			WantStrategy:             rollingUpdate(intBound(0), intBound(1)),
			WantRevisionHistoryLimit: 10,
			WantWarnings:             []string{hostPortSurgeWarning},
		},
		{
			Case: Case{"hostPort with maxUnavailable is fine", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, HostPort: 9100}}
			}},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"toleration of every taint is warned about", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
			}},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
			WantWarnings:             []string{tolerateEverythingWarning},
		},
		{
			Case: Case{"toleration of every NoSchedule taint is fine", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			}},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
		{
			Case: Case{"node placement rules that are well formed", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
				podSpec(s).Affinity = requiredNodeAffinity(
					nodeLabelTerm("node-role.kubernetes.io/control-plane", corev1.NodeSelectorOpDoesNotExist),
					corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
						{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}},
					}},
				)
				podSpec(s).Tolerations = []corev1.Toleration{
					{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "agents", Effect: corev1.TaintEffectNoSchedule},
					{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists,
						Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				}
			}},
			WantStrategy:             rollingUpdate(intBound(1), intBound(0)),
			WantRevisionHistoryLimit: 10,
		},
	}
}

package admission

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Default fills the fields of set that the user left unset, in place. It only ever fills empty fields, never
// overwrites one, so defaulting a defaulted object changes nothing and re-applying a manifest shows no diff.
//
//   - spec.updateStrategy.type: RollingUpdate.
//   - For RollingUpdate, the bounds: neither set gives maxUnavailable 1 and maxSurge 0 (replace one node at a time,
//     as a DaemonSet does); a non-zero maxSurge alone gives maxUnavailable 0, because the two cannot both be
//     non-zero (upstream defaults maxUnavailable to 1 here and then rejects its own result); maxUnavailable alone
//     gives maxSurge 0.
//   - For a canary: replicas 1 without a nodeSelector and 100% (every matching node) with one, duration 0,
//     promotion Auto, maxRestarts 2, onFailure Pause.
//   - spec.progressDeadlineSeconds: 600 (minReadySeconds + 600 when minReadySeconds is 600 or more).
//   - spec.revisionHistoryLimit: 10.
//   - spec.template.spec.restartPolicy: Always, the only policy a node agent can have.
func Default(set *v1alpha1.NodeAgentSet) {
	spec := &set.Spec
	strategy := &spec.UpdateStrategy
	if strategy.Type == "" {
		strategy.Type = v1alpha1.RollingUpdateStrategyType
	}
	if strategy.Type == v1alpha1.RollingUpdateStrategyType {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{}
		}
		defaultRollingUpdate(strategy.RollingUpdate)
		if canary := strategy.RollingUpdate.Canary; canary != nil {
			defaultCanary(canary)
		}
	}
	if spec.ProgressDeadlineSeconds == nil {
		deadline := v1alpha1.DefaultProgressDeadline(spec.MinReadySeconds)
		spec.ProgressDeadlineSeconds = &deadline
	}
	if spec.RevisionHistoryLimit == nil {
		limit := v1alpha1.DefaultRevisionHistoryLimit
		spec.RevisionHistoryLimit = &limit
	}
	if spec.Template.Spec.RestartPolicy == "" {
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
}

// defaultRollingUpdate fills the bounds that are unset so that exactly one of them is non-zero whenever the user
// left room for it.
func defaultRollingUpdate(ru *v1alpha1.RollingUpdateNodeAgentSet) {
	if ru.MaxUnavailable == nil {
		// A surging rollout keeps every old pod until its replacement is available; adding unavailability on top
		// would be rejected. An explicit maxSurge of 0 (or an invalid one) leaves the DaemonSet default of 1.
		unavailable := intstr.FromInt32(1)
		if isPositiveBound(ru.MaxSurge) {
			unavailable = intstr.FromInt32(0)
		}
		ru.MaxUnavailable = &unavailable
	}
	if ru.MaxSurge == nil {
		surge := intstr.FromInt32(0)
		ru.MaxSurge = &surge
	}
}

// defaultCanary fills the canary fields left unset.
func defaultCanary(canary *v1alpha1.NodeAgentSetCanary) {
	if canary.Replicas == nil {
		replicas := intstr.FromInt32(1)
		if canary.NodeSelector != nil {
			replicas = intstr.FromString("100%")
		}
		canary.Replicas = &replicas
	}
	if canary.Duration == nil {
		canary.Duration = &metav1.Duration{}
	}
	if canary.Promotion == "" {
		canary.Promotion = v1alpha1.DefaultCanaryPromotion
	}
	if canary.MaxRestarts == nil {
		restarts := v1alpha1.DefaultCanaryMaxRestarts
		canary.MaxRestarts = &restarts
	}
	if canary.OnFailure == "" {
		canary.OnFailure = v1alpha1.DefaultCanaryFailurePolicy
	}
}

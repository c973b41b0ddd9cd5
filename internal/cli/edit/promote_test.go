package edit

import (
	"testing"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func canarySet(phase v1alpha1.CanaryPhase, onFailure v1alpha1.CanaryFailurePolicy) *v1alpha1.NodeAgentSet {
	set := withStrategy(v1alpha1.RollingUpdateStrategyType, &v1alpha1.RollingUpdateNodeAgentSet{
		Canary: &v1alpha1.NodeAgentSetCanary{Promotion: v1alpha1.CanaryPromotionManual, OnFailure: onFailure},
	})
	set.Generation, set.Status.ObservedGeneration = 3, 3
	set.Status.UpdateRevision = "agent-6b7c9d"
	if phase != "" {
		set.Status.Canary = &v1alpha1.NodeAgentSetCanaryStatus{Revision: "agent-6b7c9d", Phase: phase}
	}
	return set
}

func TestPromote(t *testing.T) {
	const quoted = `nodeagentsets.apps.nodeagentset.io "agent"`
	cases := []struct {
		name    string
		set     *v1alpha1.NodeAgentSet
		wantErr string
	}{
		{name: "a canary waiting for promotion", set: canarySet(v1alpha1.CanaryPhaseWaitingForPromotion, "")},
		{name: "a failed canary that pauses", set: canarySet(v1alpha1.CanaryPhaseFailed, v1alpha1.CanaryFailurePause)},
		{
			name: "a failed canary that aborted", set: canarySet(v1alpha1.CanaryPhaseFailed, v1alpha1.CanaryFailureAbort),
			wantErr: quoted + " has no canary waiting for promotion: the canary of revision agent-6b7c9d is Failed",
		},
		{
			name: "a running canary", set: canarySet(v1alpha1.CanaryPhaseRunning, ""),
			wantErr: quoted + " has no canary waiting for promotion: the canary of revision agent-6b7c9d is Running",
		},
		{
			name: "no canary status", set: canarySet("", ""),
			wantErr: quoted + " has no canary waiting for promotion: no canary runs for revision agent-6b7c9d",
		},
		{
			name: "a canary of another revision", set: func() *v1alpha1.NodeAgentSet {
				s := canarySet(v1alpha1.CanaryPhaseWaitingForPromotion, "")
				s.Status.Canary.Revision = "agent-older"
				return s
			}(),
			wantErr: quoted + " has no canary waiting for promotion: no canary runs for revision agent-6b7c9d",
		},
		{
			name: "no canary in the spec", set: withStrategy("", nil),
			wantErr: quoted + " has no canary to promote: spec.updateStrategy.rollingUpdate.canary is not set",
		},
		{
			name: "a spec not observed yet", set: func() *v1alpha1.NodeAgentSet {
				s := canarySet(v1alpha1.CanaryPhaseWaitingForPromotion, "")
				s.Generation = 4
				return s
			}(),
			wantErr: quoted + " has changes the controller has not observed yet (generation 4, observed 3); try again once it has",
		},
		{
			name: "already promoted", set: func() *v1alpha1.NodeAgentSet {
				s := canarySet(v1alpha1.CanaryPhaseWaitingForPromotion, "")
				s.Annotations = map[string]string{v1alpha1.PromoteRevisionAnnotation: "agent-6b7c9d"}
				return s
			}(),
			wantErr: quoted + " is already promoted to revision agent-6b7c9d",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Promote(tc.set)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			got := tc.set.Annotations[v1alpha1.PromoteRevisionAnnotation]
			if tc.wantErr == "" && got != "agent-6b7c9d" {
				t.Errorf("annotation = %q, want the update revision", got)
			}
		})
	}
}

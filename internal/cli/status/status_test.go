package status

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// counts is the part of the status the verdict depends on.
type counts struct {
	desired, updated, available int32
}

// newSet is a set whose controller wrote the counts and the conditions ("Type=Status/Reason" each) for observed.
func newSet(generation, observed int64, c counts, strategy v1alpha1.NodeAgentSetUpdateStrategy, conditions ...string) *v1alpha1.NodeAgentSet {
	set := &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: generation},
		Spec:       v1alpha1.NodeAgentSetSpec{UpdateStrategy: strategy},
		Status: v1alpha1.NodeAgentSetStatus{
			ObservedGeneration:     observed,
			DesiredNumberScheduled: c.desired,
			UpdatedNumberScheduled: c.updated,
			NumberAvailable:        c.available,
		},
	}
	for _, spec := range conditions {
		typ, rest, _ := strings.Cut(spec, "=")
		status, reason, _ := strings.Cut(rest, "/")
		set.Status.Conditions = append(set.Status.Conditions, metav1.Condition{
			Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, ObservedGeneration: observed,
			Message: "controller message for " + reason,
		})
	}
	return set
}

// The conditions the controller writes in each state (see internal/planner).
const (
	complete       = "Ready=True/RolloutComplete"
	rollingUpdate  = "Progressing=True/RollingUpdate"
	unavailable    = "Progressing=True/PodsUnavailable"
	pausedProgress = "Progressing=False/RolloutPaused"
	partitioned    = "Ready=True/Partitioned"
)

func rolling(paused bool, partition *intstr.IntOrString) v1alpha1.NodeAgentSetUpdateStrategy {
	return v1alpha1.NodeAgentSetUpdateStrategy{
		Type:          v1alpha1.RollingUpdateStrategyType,
		RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{Paused: paused, Partition: partition},
	}
}

func intOrStr(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestEvaluate(t *testing.T) {
	cases := []struct {
		name        string
		set         *v1alpha1.NodeAgentSet
		wantMessage string
		wantDone    bool
		wantErr     string
	}{
		{
			name:        "spec change not yet observed waits",
			set:         newSet(3, 2, counts{3, 3, 3}, v1alpha1.NodeAgentSetUpdateStrategy{}),
			wantMessage: "Waiting for nodeagentset spec update to be observed...",
		},
		{
			name:        "pods still being replaced reports updated out of desired",
			set:         newSet(2, 2, counts{3, 1, 2}, v1alpha1.NodeAgentSetUpdateStrategy{}, rollingUpdate),
			wantMessage: `Waiting for nodeagentset "agent" rollout to finish: 1 out of 3 new pods have been updated...`,
		},
		{
			name:        "all updated but not all available reports availability",
			set:         newSet(2, 2, counts{3, 3, 2}, rolling(false, nil), unavailable),
			wantMessage: `Waiting for nodeagentset "agent" rollout to finish: 2 of 3 updated pods are available...`,
		},
		{
			name:        "all updated and available is done",
			set:         newSet(2, 2, counts{3, 3, 3}, rolling(false, nil), complete),
			wantMessage: `nodeagentset "agent" successfully rolled out`,
			wantDone:    true,
		},
		{
			name:        "observed generation ahead of generation counts as observed",
			set:         newSet(2, 5, counts{1, 1, 1}, v1alpha1.NodeAgentSetUpdateStrategy{}, complete),
			wantMessage: `nodeagentset "agent" successfully rolled out`,
			wantDone:    true,
		},
		{
			name:        "no eligible nodes is done",
			set:         newSet(1, 1, counts{0, 0, 0}, v1alpha1.NodeAgentSetUpdateStrategy{}, complete),
			wantMessage: `nodeagentset "agent" successfully rolled out`,
			wantDone:    true,
		},
		{
			name:    "OnDelete strategy is refused",
			set:     newSet(1, 1, counts{3, 1, 3}, v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}),
			wantErr: `nodeagentset "agent" uses the OnDelete update strategy: rollout status is only available for the RollingUpdate strategy (pods change only when deleted)`,
		},
		{
			name:    "paused with nodes left to update is an error",
			set:     newSet(2, 2, counts{4, 1, 4}, rolling(true, nil), partitioned, pausedProgress),
			wantErr: `nodeagentset "agent" rollout is paused with 1 out of 4 new pods updated: run "kubectl nas rollout resume agent" to continue it`,
		},
		{
			name:        "paused after every node updated still waits for availability",
			set:         newSet(2, 2, counts{4, 4, 3}, rolling(true, nil), unavailable),
			wantMessage: `Waiting for nodeagentset "agent" rollout to finish: 3 of 4 updated pods are available...`,
		},
		{
			name:        "paused but complete is done",
			set:         newSet(2, 2, counts{4, 4, 4}, rolling(true, nil), complete),
			wantMessage: `nodeagentset "agent" successfully rolled out`,
			wantDone:    true,
		},
		{
			name:        "partition not reached yet counts nodes outside the partition",
			set:         newSet(2, 2, counts{5, 1, 5}, rolling(false, intOrStr(intstr.FromInt32(2))), rollingUpdate),
			wantMessage: `Waiting for partitioned nodeagentset "agent" rollout to finish: 1 out of 3 new pods have been updated...`,
		},
		{
			name:        "partition reached with a pod unavailable waits for it",
			set:         newSet(2, 2, counts{5, 3, 4}, rolling(false, intOrStr(intstr.FromInt32(2))), rollingUpdate),
			wantMessage: `Waiting for partitioned nodeagentset "agent" rollout to finish: 4 of 5 pods are available...`,
		},
		{
			name:        "partition reached and all available is done",
			set:         newSet(2, 2, counts{5, 3, 5}, rolling(false, intOrStr(intstr.FromInt32(2))), partitioned),
			wantMessage: `nodeagentset "agent" partitioned roll out complete: 3 new pods have been updated, 2 kept at the old revision by the partition`,
			wantDone:    true,
		},
		{
			name:        "percent partition rounds up",
			set:         newSet(2, 2, counts{5, 3, 5}, rolling(false, intOrStr(intstr.FromString("30%"))), partitioned),
			wantMessage: `nodeagentset "agent" partitioned roll out complete: 3 new pods have been updated, 2 kept at the old revision by the partition`,
			wantDone:    true,
		},
		{
			name:        "partition larger than the set keeps every node",
			set:         newSet(2, 2, counts{2, 0, 2}, rolling(false, intOrStr(intstr.FromInt32(10))), partitioned),
			wantMessage: `nodeagentset "agent" partitioned roll out complete: 0 new pods have been updated, 2 kept at the old revision by the partition`,
			wantDone:    true,
		},
		{
			name:        "partition with every node updated anyway is a full rollout",
			set:         newSet(2, 2, counts{3, 3, 3}, rolling(false, intOrStr(intstr.FromInt32(1))), complete),
			wantMessage: `nodeagentset "agent" successfully rolled out`,
			wantDone:    true,
		},
		{
			name:        "paused at the partition is done, not an error",
			set:         newSet(2, 2, counts{4, 3, 4}, rolling(true, intOrStr(intstr.FromInt32(1))), partitioned, pausedProgress),
			wantMessage: `nodeagentset "agent" partitioned roll out complete: 3 new pods have been updated, 1 kept at the old revision by the partition`,
			wantDone:    true,
		},
		{
			name:    "paused before the partition is reached is an error",
			set:     newSet(2, 2, counts{4, 1, 4}, rolling(true, intOrStr(intstr.FromInt32(1))), partitioned, pausedProgress),
			wantErr: `nodeagentset "agent" rollout is paused with 1 out of 3 new pods updated: run "kubectl nas rollout resume agent" to continue it`,
		},
		{
			name: "conditions of an older generation are not a verdict",
			set: func() *v1alpha1.NodeAgentSet {
				s := newSet(2, 2, counts{3, 3, 3}, rolling(false, nil), complete)
				s.Status.Conditions[0].ObservedGeneration = 1
				return s
			}(),
			wantMessage: `Waiting for nodeagentset "agent" rollout to finish: 3 of 3 updated pods are available...`,
		},
		{
			name:        "a canary running waits and prints its phase",
			set:         withCanary(newSet(2, 2, counts{5, 2, 4}, rolling(false, nil), "Ready=False/CanaryRunning", "Progressing=True/CanaryRunning"), v1alpha1.CanaryPhaseRunning, "updating 2 canary node(s) to revision agent-6b7c9d"),
			wantMessage: `Waiting for nodeagentset "agent" canary: Running on 2 node(s): updating 2 canary node(s) to revision agent-6b7c9d...`,
		},
		{
			name:        "a canary waiting for promotion waits and says how to promote",
			set:         withCanary(newSet(2, 2, counts{5, 2, 5}, rolling(false, nil), "Ready=False/CanaryWaitingForPromotion", "Progressing=False/CanaryWaitingForPromotion"), v1alpha1.CanaryPhaseWaitingForPromotion, "passed"),
			wantMessage: `Waiting for nodeagentset "agent" canary to be promoted: run "kubectl nas rollout promote agent" to continue the rollout...`,
		},
		{
			name:    "a failed canary is an error naming the reason",
			set:     withCanary(newSet(2, 2, counts{5, 1, 4}, rolling(false, nil), "Ready=False/CanaryFailed", "Progressing=False/CanaryFailed", "Stalled=True/CanaryFailed"), v1alpha1.CanaryPhaseFailed, "1 pod of revision agent-6b7c9d: CrashLoopBackOff on node-3"),
			wantErr: `nodeagentset "agent" canary failed: 1 pod of revision agent-6b7c9d: CrashLoopBackOff on node-3`,
		},
		{
			name:    "an exceeded progress deadline is an error",
			set:     newSet(2, 2, counts{5, 1, 4}, rolling(false, nil), "Ready=False/RollingUpdate", "Progressing=False/ProgressDeadlineExceeded", "Stalled=True/ProgressDeadlineExceeded"),
			wantErr: `nodeagentset "agent" exceeded its progress deadline`,
		},
		{
			name:        "another stall keeps waiting with the progress line",
			set:         newSet(2, 2, counts{5, 1, 4}, rolling(false, nil), "Ready=False/RollingUpdate", rollingUpdate, "Stalled=True/PodsFailing"),
			wantMessage: `Waiting for nodeagentset "agent" rollout to finish: 1 out of 5 new pods have been updated...`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Evaluate(tc.set)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Message != tc.wantMessage || got.Done != tc.wantDone {
				t.Errorf("got (%q, done=%t), want (%q, done=%t)", got.Message, got.Done, tc.wantMessage, tc.wantDone)
			}
		})
	}
}

func TestCheckRevision(t *testing.T) {
	cases := []struct {
		name          string
		want, running int64
		wantErr       string
	}{
		{name: "no revision asked for passes", want: 0, running: 4},
		{name: "matching revision passes", want: 4, running: 4},
		{name: "unknown running revision passes", want: 4, running: 0},
		{name: "other revision fails", want: 3, running: 4, wantErr: "desired revision (3) is different from the running revision (4)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRevision(tc.want, tc.running)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func withCanary(set *v1alpha1.NodeAgentSet, phase v1alpha1.CanaryPhase, message string) *v1alpha1.NodeAgentSet {
	set.Status.Canary = &v1alpha1.NodeAgentSetCanaryStatus{Revision: "agent-6b7c9d", Nodes: 2, Phase: phase, Message: message}
	return set
}

package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// rollingStatus is a status in the middle of a rollout, with every field onlyProgress looks at set.
func rollingStatus() v1alpha1.NodeAgentSetStatus {
	base := metav1.NewTime(time.Unix(900, 0))
	return v1alpha1.NodeAgentSetStatus{
		CurrentNumberScheduled: 10, DesiredNumberScheduled: 10, NumberReady: 9, UpdatedNumberScheduled: 4,
		NumberAvailable: 8, NumberUnavailable: 2, ObservedGeneration: 3,
		CurrentRevision: "agent-1", UpdateRevision: "agent-2",
		Conditions: []metav1.Condition{
			{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "RollingUpdate", Message: "4 of 10 updated", ObservedGeneration: 3, LastTransitionTime: base},
			{Type: v1alpha1.ConditionProgressing, Status: metav1.ConditionTrue, Reason: "RollingUpdate", Message: "4 of 10 updated", ObservedGeneration: 3, LastTransitionTime: base},
			{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCreateFailed, Message: "creating pods failed: quota", ObservedGeneration: 3, LastTransitionTime: base},
			// Not a set's real conditions (one Stalled): a second, False, shows that only a True one's message is kept.
			{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: "AsExpected", Message: "4 of 10 updated", ObservedGeneration: 3, LastTransitionTime: base},
		},
		Canary:               &v1alpha1.NodeAgentSetCanaryStatus{Revision: "agent-2", Nodes: 2, Phase: v1alpha1.CanaryPhaseRunning, StartedAt: base, Message: "2 of 2"},
		ProgressDeadlineBase: &base,
		NodeOverrides:        []v1alpha1.NodeOverrideStatus{{Name: "gpu", Nodes: 3, UpdatedNodes: 1}},
	}
}

func TestOnlyProgress(t *testing.T) {
	later := metav1.NewTime(time.Unix(950, 0))
	tests := []struct {
		name   string
		change func(st *v1alpha1.NodeAgentSetStatus)
		want   bool
	}{
		{name: "counts", want: true, change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.UpdatedNumberScheduled, st.NumberAvailable, st.NumberUnavailable, st.NumberReady = 5, 7, 3, 8
			st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = 11, 11, 1
		}},
		{name: "a condition's message", want: true, change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.Conditions[0].Message = "5 of 10 updated"
		}},
		{name: "an override's node counts", want: true, change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.NodeOverrides[0].Nodes, st.NodeOverrides[0].UpdatedNodes = 4, 2
		}},
		{name: "the progress deadline's base moves by less than the bound", want: true, change: func(st *v1alpha1.NodeAgentSetStatus) {
			moved := metav1.NewTime(st.ProgressDeadlineBase.Add(999 * time.Millisecond))
			st.ProgressDeadlineBase = &moved
		}},
		{name: "the progress deadline's base moves by the bound (a stall ended)", change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.ProgressDeadlineBase = &later
		}},
		{name: "the progress deadline's base moves back", change: func(st *v1alpha1.NodeAgentSetStatus) {
			back := metav1.NewTime(st.ProgressDeadlineBase.Add(-time.Millisecond))
			st.ProgressDeadlineBase = &back
		}},
		{name: "a Stalled=True condition's message (a refused create lives there)", change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.Conditions[2].Message = "creating pods failed: quota exceeded"
		}},
		{name: "a Stalled=False condition's message", want: true, change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.Conditions[3].Message = "5 of 10 updated"
		}},
		{name: "a condition's status", change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.Conditions[0].Status, st.Conditions[0].LastTransitionTime = metav1.ConditionTrue, later
		}},
		{name: "a condition's reason", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Conditions[1].Reason = "ProgressDeadlineExceeded" }},
		{name: "a condition's observed generation", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Conditions[1].ObservedGeneration = 4 }},
		{name: "a condition added", change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.Conditions = append(st.Conditions, metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: "AsExpected"})
		}},
		{name: "observedGeneration", change: func(st *v1alpha1.NodeAgentSetStatus) { st.ObservedGeneration = 4 }},
		{name: "the update revision", change: func(st *v1alpha1.NodeAgentSetStatus) { st.UpdateRevision = "agent-3" }},
		{name: "the current revision", change: func(st *v1alpha1.NodeAgentSetStatus) { st.CurrentRevision = "agent-2" }},
		{name: "collisionCount", change: func(st *v1alpha1.NodeAgentSetStatus) { one := int32(1); st.CollisionCount = &one }},
		{name: "the canary's phase", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Canary.Phase = v1alpha1.CanaryPhasePassed }},
		{name: "the canary's message", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Canary.Message = "3 of 3" }},
		{name: "the canary's node count", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Canary.Nodes = 3 }},
		{name: "the canary cleared", change: func(st *v1alpha1.NodeAgentSetStatus) { st.Canary = nil }},
		{name: "the progress deadline's base cleared", change: func(st *v1alpha1.NodeAgentSetStatus) { st.ProgressDeadlineBase = nil }},
		{name: "an override added", change: func(st *v1alpha1.NodeAgentSetStatus) {
			st.NodeOverrides = append(st.NodeOverrides, v1alpha1.NodeOverrideStatus{Name: "arm"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, next := rollingStatus(), rollingStatus()
			tt.change(&next)
			if got := onlyProgress(stored, next, time.Second); got != tt.want {
				t.Fatalf("onlyProgress = %v, want %v", got, tt.want)
			}
			if again := rollingStatus(); !onlyProgress(again, rollingStatus(), time.Second) || again.Conditions[0].Message == "" ||
				stored.Canary.Nodes != 2 || stored.NodeOverrides[0].Nodes != 3 || !stored.ProgressDeadlineBase.Equal(rollingStatus().ProgressDeadlineBase) {
				t.Fatal("onlyProgress changed its arguments")
			}
		})
	}
}

// writeStatus holds a count-only change back for the spacing after the last write and writes any other change at
// once. A fake client and clock: the point is which of two writes a fraction of a second apart reach the store, an
// interleaving a real API server's clock cannot be made to produce on demand. The end-to-end effect (the status
// settles at the final counts) is covered by every integration spec that waits on the status.
func TestWriteStatusSpacesProgressOnlyWrites(t *testing.T) {
	scheme := testScheme(t)
	set := &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent", Generation: 3}}
	set.Status = rollingStatus()
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(set).WithStatusSubresource(&v1alpha1.NodeAgentSet{}).Build()
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	r := &NodeAgentSetReconciler{client: c, clock: clk, statusSpacer: newSpacer(clk, time.Second)}
	ctx := context.Background()

	stored := func() *v1alpha1.NodeAgentSet {
		t.Helper()
		got := &v1alpha1.NodeAgentSet{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(set), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	write := func(change func(st *v1alpha1.NodeAgentSetStatus)) time.Duration {
		t.Helper()
		current := stored()
		planned := current.Status
		planned.Conditions = append([]metav1.Condition(nil), current.Status.Conditions...)
		change(&planned)
		due, err := r.writeStatus(ctx, current, nil, planned, true)
		if err != nil {
			t.Fatal(err)
		}
		return due
	}

	if due := write(func(st *v1alpha1.NodeAgentSetStatus) { st.UpdatedNumberScheduled = 5 }); due != 0 || stored().Status.UpdatedNumberScheduled != 5 {
		t.Fatalf("first write after a quiet spell: due %v, stored updatedNumberScheduled %d; want written at once", due, stored().Status.UpdatedNumberScheduled)
	}
	clk.Step(300 * time.Millisecond)
	if due := write(func(st *v1alpha1.NodeAgentSetStatus) { st.UpdatedNumberScheduled = 6 }); due != 700*time.Millisecond || stored().Status.UpdatedNumberScheduled != 5 {
		t.Fatalf("count-only change 300ms later: due %v, stored %d; want held back 700ms", due, stored().Status.UpdatedNumberScheduled)
	}
	if due := write(func(st *v1alpha1.NodeAgentSetStatus) {
		st.UpdatedNumberScheduled = 6
		st.Conditions[0].Reason = "ProgressDeadlineExceeded"
	}); due != 0 || stored().Status.Conditions[0].Reason != "ProgressDeadlineExceeded" || stored().Status.UpdatedNumberScheduled != 6 {
		t.Fatalf("a condition's reason within the spacing: due %v; want written at once with the counts", due)
	}
	clk.Step(999 * time.Millisecond)
	if due := write(func(st *v1alpha1.NodeAgentSetStatus) { st.NumberAvailable = 9 }); due != time.Millisecond || stored().Status.NumberAvailable != 8 {
		t.Fatalf("count-only change 999ms after the last write: due %v; want held back 1ms", due)
	}
	clk.Step(time.Millisecond)
	if due := write(func(st *v1alpha1.NodeAgentSetStatus) { st.NumberAvailable = 9 }); due != 0 || stored().Status.NumberAvailable != 9 {
		t.Fatalf("count-only change a spacing after the last write: due %v, stored %d; want written", due, stored().Status.NumberAvailable)
	}
	if due := write(func(*v1alpha1.NodeAgentSetStatus) {}); due != 0 {
		t.Fatalf("no change: due %v, want 0", due)
	}
	clk.Step(100 * time.Millisecond)
	current := stored()
	planned := current.Status
	planned.NumberReady = 7
	if due, err := r.writeStatus(ctx, current, nil, planned, false); err != nil || due != 0 || stored().Status.NumberReady != 7 {
		t.Fatalf("count-only change of a pass whose writes failed: due %v, err %v; want written at once", due, err)
	}
}

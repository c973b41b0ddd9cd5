package planner

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestDecideStatusCounts(t *testing.T) {
	set := newSet(nodeSelector("role", "agent"), minReady(10), func(s *v1alpha1.NodeAgentSet) {
		s.Status.CollisionCount = new(int32)
		*s.Status.CollisionCount = 3
		s.Status.NumberReady = 99 // never copied
		s.Status.CurrentRevision = "stale"
	})
	agent := label("role", "agent")
	ns := []*corev1.Node{
		node("n1", agent), node("n2", agent), node("n3", agent), node("n4", agent), node("n5", agent),
		node("n6", label("role", "db")),
		node("n7", agent, taint("dedicated", corev1.TaintEffectNoSchedule)),
		node("n8", agent),
	}
	snap := snapshot(set, ns,
		pod("new-n1", "n1", newHash),
		pod("old-n2", "n2", oldHash),
		pod("new-n3", "n3", newHash, notReady()),
		pod("old-n5", "n5", oldHash, createdAgo(3*time.Hour)), pod("new-n5", "n5", newHash, createdAgo(time.Minute)),
		pod("old-n6", "n6", oldHash),
		pod("new-n7", "n7", newHash),
		pod("new-n8", "n8", newHash, readyAgo(5*time.Second)),
	)
	plan := Decide(snap)
	got := plan.Status
	got.Conditions = nil
	want := v1alpha1.NodeAgentSetStatus{
		DesiredNumberScheduled: 6, // n1 n2 n3 n4 n5 n8
		CurrentNumberScheduled: 5, // all but n4
		NumberMisscheduled:     2, // n6 (label), n7 (NoSchedule taint, pod kept)
		NumberReady:            4, // n1 n2 n5(old) n8
		NumberAvailable:        3, // n1 n2 n5(old); n8 is ready for 5 of 10 seconds
		NumberUnavailable:      3,
		UpdatedNumberScheduled: 3, // n1 n3 n8; n5's oldest pod is old
		ObservedGeneration:     2,
		CollisionCount:         set.Status.CollisionCount,
		CurrentRevision:        oldRevision.Name,
		UpdateRevision:         newRevision.Name,
		ProgressDeadlineBase:   &metav1.Time{Time: t0}, // the rollout starts counting now
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("status:\n got  %+v\n want %+v", got, want)
	}
	if got.CollisionCount == set.Status.CollisionCount {
		t.Errorf("collisionCount shares memory with the set's status")
	}
	if plan.RequeueAfter != 5*time.Second {
		t.Errorf("requeueAfter = %v, want 5s (n8 becomes available)", plan.RequeueAfter)
	}
}

func TestDecideCurrentRevision(t *testing.T) {
	olderRevision := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-older0", Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: "older0"}},
		Revision:   3, // rolled back to: the newest number
	}
	cases := []struct {
		name string
		pods []*corev1.Pod
		want string
	}{
		{"no pods", nil, newRevision.Name},
		{"every pod updated", []*corev1.Pod{pod("a", "n1", newHash), pod("b", "n2", newHash)}, newRevision.Name},
		{"terminating old pods do not count", []*corev1.Pod{pod("a", "n1", newHash), pod("b", "n2", oldHash, terminating())}, newRevision.Name},
		{"the revision most old pods run", []*corev1.Pod{
			pod("a", "n1", oldHash), pod("b", "n2", oldHash), pod("c", "n3", "older0"), pod("d", "n4", newHash),
		}, oldRevision.Name},
		{"a tie goes to the higher revision number", []*corev1.Pod{
			pod("a", "n1", oldHash), pod("c", "n3", "older0"), pod("d", "n4", newHash),
		}, "agent-older0"},
		{"unknown revisions are skipped", []*corev1.Pod{
			pod("a", "n1", "unknown"), pod("b", "n2", "unknown"), pod("c", "n3", oldHash),
		}, oldRevision.Name},
		{"only unknown revisions", []*corev1.Pod{pod("a", "n1", "unknown")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := snapshot(newSet(), nodes("n1", "n2", "n3", "n4"), tc.pods...)
			snap.Revisions = []*appsv1.ControllerRevision{oldRevision, newRevision, olderRevision}
			if got := Decide(snap).Status.CurrentRevision; got != tc.want {
				t.Fatalf("currentRevision = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecideConditions(t *testing.T) {
	mixed := func(opts ...setOpt) Snapshot {
		return snapshot(newSet(opts...), nodes("n1", "n2", "n3"),
			pod("new-n1", "n1", newHash), pod("old-n2", "n2", oldHash), pod("old-n3", "n3", oldHash))
	}
	cases := []struct {
		name string
		snap Snapshot
		want string
	}{
		{
			"rollout complete",
			snapshot(newSet(), nodes("n1", "n2"), pod("a", "n1", newHash), pod("b", "n2", newHash)),
			"Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete",
		},
		{
			"no eligible node is a complete rollout",
			snapshot(newSet(nodeSelector("role", "agent")), nodes("n1")),
			"Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete",
		},
		{
			"old pod still terminating beside an available new one is not complete",
			snapshot(newSet(maxSurge("1")), nodes("n1"), pod("old", "n1", oldHash, terminating()), pod("new", "n1", newHash, createdAgo(time.Minute))),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=True/PodsUnavailable Stalled=False/PodsUnavailable",
		},
		{
			"rolling update in progress",
			mixed(),
			"Ready=False/RollingUpdate Progressing=True/RollingUpdate Reconciling=True/RollingUpdate Stalled=False/RollingUpdate",
		},
		{
			"pods being created",
			snapshot(newSet(), nodes("n1", "n2"), pod("a", "n1", newHash)),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=True/PodsUnavailable Stalled=False/PodsUnavailable",
		},
		{
			"paused with every node available",
			mixed(paused()),
			"Ready=True/Partitioned Progressing=False/RolloutPaused Reconciling=False/RolloutPaused Stalled=False/RolloutPaused",
		},
		{
			"paused with a node unavailable",
			snapshot(newSet(paused()), nodes("n1", "n2"), pod("a", "n1", oldHash), pod("b", "n2", newHash, notReady())),
			"Ready=False/RolloutPaused Progressing=False/RolloutPaused Reconciling=True/RolloutPaused Stalled=False/RolloutPaused",
		},
		{
			"partition reached",
			mixed(partition("2")),
			"Ready=True/Partitioned Progressing=True/Partitioned Reconciling=False/Partitioned Stalled=False/Partitioned",
		},
		{
			"partition reached but an updated pod is not available yet",
			snapshot(newSet(partition("2")), nodes("n1", "n2", "n3"),
				pod("new-n1", "n1", newHash, notReady()), pod("old-n2", "n2", oldHash), pod("old-n3", "n3", oldHash)),
			"Ready=False/PodsUnavailable Progressing=True/RollingUpdate Reconciling=True/PodsUnavailable Stalled=False/PodsUnavailable",
		},
		{
			"partition not reached yet",
			mixed(partition("1")),
			"Ready=False/RollingUpdate Progressing=True/RollingUpdate Reconciling=True/RollingUpdate Stalled=False/RollingUpdate",
		},
		{
			"OnDelete with old pods",
			mixed(onDelete()),
			"Ready=False/OnDeleteWaiting Progressing=False/OnDeleteWaiting Reconciling=True/OnDeleteWaiting Stalled=False/OnDeleteWaiting",
		},
		{
			"generation not observed while expectations are pending",
			with(mixed(), func(s *Snapshot) { s.ExpectationsSatisfied = false }),
			"Ready=False/GenerationNotObserved Progressing=True/GenerationNotObserved Reconciling=True/GenerationNotObserved Stalled=False/GenerationNotObserved",
		},
		{
			"pending expectations on an observed generation",
			with(snapshot(newSet(func(s *v1alpha1.NodeAgentSet) { s.Status.ObservedGeneration = 2 }), nodes("n1"), pod("a", "n1", newHash)),
				func(s *Snapshot) { s.ExpectationsSatisfied = false }),
			"Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete",
		},
		{
			"stalled: creates refused",
			with(snapshot(newSet(), nodes("n1")), func(s *Snapshot) { s.CreateFailure = `pods "agent-" is forbidden: exceeded quota` }),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=False/FailedCreate Stalled=True/FailedCreate",
		},
		{
			"a refused create is history once every eligible node has a pod",
			with(snapshot(newSet(func(s *v1alpha1.NodeAgentSet) { s.Status.ObservedGeneration = 2 }), nodes("n1"), pod("a", "n1", newHash)),
				func(s *Snapshot) { s.CreateFailure = `pods "agent-" is forbidden: exceeded quota` }),
			"Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete",
		},
		{
			"stalled: selector does not match the template labels",
			snapshot(newSet(func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Labels = map[string]string{"app": "other"} }), nodes("n1")),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=False/SelectorMismatch Stalled=True/SelectorMismatch",
		},
		{
			"stalled: failed pod in backoff",
			with(snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, phase(corev1.PodFailed))),
				func(s *Snapshot) { s.Backoff = fixedBackoff{"n1": time.Minute} }),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=False/PodsFailing Stalled=True/PodsFailing",
		},
		{
			"stalled: pod cannot be scheduled",
			snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, pending(), unschedulable("0/1 nodes are available: 1 Insufficient cpu."))),
			"Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=False/PodsUnschedulable Stalled=True/PodsUnschedulable",
		},
		{
			"stalled: invalid update strategy",
			mixed(partition("lots")),
			"Ready=False/RollingUpdate Progressing=True/RollingUpdate Reconciling=False/InvalidUpdateStrategy Stalled=True/InvalidUpdateStrategy",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := Decide(tc.snap).Status
			if got := conditionsLine(st); got != tc.want {
				t.Fatalf("conditions:\n got  %s\n want %s", got, tc.want)
			}
			for _, c := range st.Conditions {
				// A condition describes the generation the status has observed, never a newer one.
				if c.ObservedGeneration != st.ObservedGeneration || !c.LastTransitionTime.Time.Equal(t0) || c.Message == "" {
					t.Errorf("condition %s: observedGeneration %d, lastTransitionTime %v, message %q; want %d, %v, a message",
						c.Type, c.ObservedGeneration, c.LastTransitionTime, c.Message, st.ObservedGeneration, t0)
				}
			}
		})
	}
}

func TestDecideObservedGeneration(t *testing.T) {
	set := newSet() // generation 2, observed 1
	snap := snapshot(set, nodes("n1"))
	if got := Decide(snap).Status.ObservedGeneration; got != 2 {
		t.Errorf("expectations satisfied: observedGeneration = %d, want 2", got)
	}
	snap.ExpectationsSatisfied = false
	pending := Decide(snap).Status
	if got := pending.ObservedGeneration; got != 1 {
		t.Errorf("expectations pending: observedGeneration = %d, want 1 (unchanged)", got)
	}
	for _, c := range pending.Conditions {
		if c.ObservedGeneration != pending.ObservedGeneration {
			t.Errorf("expectations pending: condition %s has observedGeneration %d, newer than status.observedGeneration %d",
				c.Type, c.ObservedGeneration, pending.ObservedGeneration)
		}
	}
}

// The refused create lives in the stored Stalled condition between passes: read back, it is the same message.
func TestStoredCreateFailure(t *testing.T) {
	const refusal = `pods "agent-x" is forbidden: exceeded quota`
	snap := with(snapshot(newSet(), nodes("n1")), func(s *Snapshot) { s.CreateFailure = refusal })
	st := Decide(snap).Status
	if got := StoredCreateFailure(st); got != refusal {
		t.Errorf("StoredCreateFailure = %q, want %q", got, refusal)
	}
	healthy := Decide(snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash))).Status
	if got := StoredCreateFailure(healthy); got != "" {
		t.Errorf("StoredCreateFailure of a healthy status = %q, want empty", got)
	}
}

func TestDecideRequeueAfter(t *testing.T) {
	cases := []struct {
		name string
		snap Snapshot
		want time.Duration
	}{
		{"nothing pending", snapshot(newSet(minReady(30)), nodes("n1"), pod("a", "n1", newHash)), 0},
		{"minReadySeconds 0 never waits", snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, readyAgo(0))), 0},
		{"soonest of two ready pods", snapshot(newSet(minReady(30)), nodes("n1", "n2"),
			pod("a", "n1", newHash, readyAgo(10*time.Second)), pod("b", "n2", newHash, readyAgo(25*time.Second))), 5 * time.Second},
		{"a not-ready pod sets no time", snapshot(newSet(minReady(30)), nodes("n1"), pod("a", "n1", newHash, notReady())), 0},
		{"backoff sooner than availability", with(snapshot(newSet(minReady(30)), nodes("n1", "n2"),
			pod("a", "n1", newHash, phase(corev1.PodFailed)), pod("b", "n2", newHash, readyAgo(time.Second))),
			func(s *Snapshot) { s.Backoff = fixedBackoff{"n1": 2 * time.Second} }), 2 * time.Second},
		{"still reported while expectations are pending", with(snapshot(newSet(minReady(30)), nodes("n1"),
			pod("a", "n1", newHash, readyAgo(20*time.Second))), func(s *Snapshot) { s.ExpectationsSatisfied = false }), 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Decide(tc.snap)
			if want := withFreshDeadline(tc.snap, plan, tc.want); plan.RequeueAfter != want {
				t.Fatalf("requeueAfter = %v, want %v", plan.RequeueAfter, want)
			}
		})
	}
}

func TestDecideCreatesNothingWhenTheSelectorMissesTheTemplate(t *testing.T) {
	set := newSet(func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Labels = map[string]string{"app": "other"} })
	plan := Decide(snapshot(set, nodes("n1", "n2")))
	if len(plan.Creates) != 0 {
		t.Fatalf("creates = %v: pods the selector does not match would be released and recreated forever", plan.Creates)
	}
}

// A kubelet whose clock runs 30s ahead of the controller's stamps Ready transition times in the future.
func TestDecideUnderKubeletClockSkew(t *testing.T) {
	const skew = 30 * time.Second
	t.Run("minReadySeconds 0: a ready pod is available at once and the rollout moves on", func(t *testing.T) {
		set := newSet(maxUnavailable("1"))
		plan := Decide(snapshot(set, nodes("n1", "n2"),
			pod("new-n1", "n1", newHash, readyAt(t0.Add(skew))), pod("old-n2", "n2", oldHash)))
		if plan.Status.NumberAvailable != 2 {
			t.Errorf("numberAvailable = %d, want 2: ready pods count as available with minReadySeconds 0", plan.Status.NumberAvailable)
		}
		if _, deletes := summary(plan); len(deletes) != 1 || deletes[0] != "old-n2:RollingUpdate" {
			t.Errorf("deletes = %v, want [old-n2:RollingUpdate]", deletes)
		}
		snap := snapshot(set, nodes("n1", "n2"), pod("new-n1", "n1", newHash, readyAt(t0.Add(skew))), pod("old-n2", "n2", oldHash))
		if want := withFreshDeadline(snap, plan, 0); plan.RequeueAfter != want {
			t.Errorf("requeueAfter = %v, want %v: nothing but the progress deadline waits for time", plan.RequeueAfter, want)
		}
	})
	t.Run("minReadySeconds 5: the wait is counted from the API server's record of the status write", func(t *testing.T) {
		set := newSet(maxUnavailable("1"), minReady(5))
		plan := Decide(snapshot(set, nodes("n1", "n2"),
			pod("new-n1", "n1", newHash, readyAt(t0.Add(skew)), statusWrittenAt(t0.Add(-2*time.Second))), pod("old-n2", "n2", oldHash)))
		if plan.RequeueAfter != 3*time.Second {
			t.Errorf("requeueAfter = %v, want 3s (written 2s ago, minReadySeconds 5), not the skew plus 5s", plan.RequeueAfter)
		}
		later := snapshot(set, nodes("n1", "n2"),
			pod("new-n1", "n1", newHash, readyAt(t0.Add(skew)), statusWrittenAt(t0.Add(-5*time.Second))), pod("old-n2", "n2", oldHash))
		if _, deletes := summary(Decide(later)); len(deletes) != 1 || deletes[0] != "old-n2:RollingUpdate" {
			t.Errorf("5s after the status write: deletes = %v, want [old-n2:RollingUpdate]", deletes)
		}
	})
	t.Run("minReadySeconds 5 without a recorded write time: requeue for when the future ready time is reached", func(t *testing.T) {
		set := newSet(maxUnavailable("1"), minReady(5))
		plan := Decide(snapshot(set, nodes("n1", "n2"),
			pod("new-n1", "n1", newHash, readyAt(t0.Add(skew))), pod("old-n2", "n2", oldHash)))
		if plan.RequeueAfter != skew+5*time.Second {
			t.Errorf("requeueAfter = %v, want %v", plan.RequeueAfter, skew+5*time.Second)
		}
	})
}

// A selector the schema let through but that cannot be used (no webhook installed) stalls the set with a message
// naming the field and value, and no pod is created or deleted.
func TestDecideInvalidSelector(t *testing.T) {
	withSelector := func(sel *metav1.LabelSelector) setOpt {
		return func(s *v1alpha1.NodeAgentSet) { s.Spec.Selector = sel }
	}
	expr := func(op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: op, Values: values}}}
	}
	cases := []struct {
		name     string
		selector *metav1.LabelSelector
		want     []string
	}{
		{"missing", nil, []string{"spec.selector: Required value"}},
		{"empty", &metav1.LabelSelector{}, []string{`spec.selector: Invalid value: "{}"`, "select every pod"}},
		{"In without values", expr(metav1.LabelSelectorOpIn), []string{"spec.selector.matchExpressions[0].values: Required value"}},
		{"unknown operator", expr("Equals", "agent"), []string{`spec.selector.matchExpressions[0].operator: Invalid value: "Equals"`}},
		{"Exists with values", expr(metav1.LabelSelectorOpExists, "agent"), []string{"spec.selector.matchExpressions[0].values: Forbidden"}},
		{"bad key", &metav1.LabelSelector{MatchLabels: map[string]string{"app!": "agent"}}, []string{`spec.selector.matchLabels: Invalid value: "app!"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := newSet(withSelector(tc.selector), maxUnavailable("1"))
			plan := Decide(snapshot(set, nodes("n1", "n2"), pod("old-n1", "n1", oldHash), pod("failed-n2", "n2", newHash, phase(corev1.PodFailed))))
			if len(plan.Creates)+len(plan.Deletes) != 0 {
				creates, deletes := summary(plan)
				t.Errorf("creates %v, deletes %v: no pod may be written while the selector is unusable", creates, deletes)
			}
			stalled := condition(plan.Status, v1alpha1.ConditionStalled)
			if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != v1alpha1.ReasonInvalidSelector {
				t.Fatalf("Stalled = %+v, want True/%s", stalled, v1alpha1.ReasonInvalidSelector)
			}
			for _, w := range tc.want {
				if !strings.Contains(stalled.Message, w) {
					t.Errorf("Stalled message %q does not contain %q", stalled.Message, w)
				}
			}
			if got := condition(plan.Status, v1alpha1.ConditionReconciling); got == nil || got.Status != metav1.ConditionFalse {
				t.Errorf("Reconciling = %+v, want False: kstatus must report the failure", got)
			}
		})
	}
}

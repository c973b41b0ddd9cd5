package planner

import (
	"reflect"
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
				if c.ObservedGeneration != tc.snap.Set.Generation || !c.LastTransitionTime.Time.Equal(t0) || c.Message == "" {
					t.Errorf("condition %s: observedGeneration %d, lastTransitionTime %v, message %q; want %d, %v, a message",
						c.Type, c.ObservedGeneration, c.LastTransitionTime, c.Message, tc.snap.Set.Generation, t0)
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
	if got := Decide(snap).Status.ObservedGeneration; got != 1 {
		t.Errorf("expectations pending: observedGeneration = %d, want 1 (unchanged)", got)
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

package planner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func TestDecideRollingUpdateWithoutSurge(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:        "default strategy replaces one available old pod at a time",
			snap:        snapshot(newSet(), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
		{
			name:        "maxUnavailable 1 of 5",
			snap:        snapshot(newSet(maxUnavailable("1")), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
		{
			name:        "maxUnavailable 2 of 5",
			snap:        snapshot(newSet(maxUnavailable("2")), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate", "old-n2:RollingUpdate"},
		},
		{
			name:        "maxUnavailable 20% of 5 is 1",
			snap:        snapshot(newSet(maxUnavailable("20%")), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
		{
			name:        "maxUnavailable 30% of 5 rounds up to 2",
			snap:        snapshot(newSet(maxUnavailable("30%")), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate", "old-n2:RollingUpdate"},
		},
		{
			name: "maxSurge 0 and maxUnavailable 0 behave as maxUnavailable 1",
			snap: snapshot(newSet(rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
				ru.MaxUnavailable, ru.MaxSurge = intOrStr("0"), intOrStr("0")
			})), nodes(five...), oldPods(five...)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
		{
			name: "a terminating old pod uses up maxUnavailable",
			snap: snapshot(newSet(maxUnavailable("1")), nodes(five...),
				concat([]*corev1.Pod{pod("old-n1", "n1", oldHash, terminating())}, oldPods("n2", "n3", "n4", "n5"))...),
		},
		{
			name: "a new pod that is not available yet uses up maxUnavailable",
			snap: snapshot(newSet(maxUnavailable("1")), nodes(five...),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash, notReady())}, oldPods("n2", "n3", "n4", "n5"))...),
		},
		{
			name: "an available new pod lets the next old pod go",
			snap: snapshot(newSet(maxUnavailable("1")), nodes(five...),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash)}, oldPods("n2", "n3", "n4", "n5"))...),
			wantDeletes: []string{"old-n2:RollingUpdate"},
		},
		{
			name: "an unavailable old pod is replaced at once, beyond maxUnavailable",
			snap: snapshot(newSet(maxUnavailable("1")), nodes(five...),
				pod("new-n1", "n1", newHash, notReady()),
				pod("old-n2", "n2", oldHash), pod("old-n3", "n3", oldHash, notReady()),
				pod("old-n4", "n4", oldHash), pod("old-n5", "n5", oldHash, phase(corev1.PodPending))),
			wantDeletes: []string{"old-n3:RollingUpdate", "old-n5:RollingUpdate"},
		},
		{
			name: "a failed old pod is left to the backoff, not the update",
			snap: with(snapshot(newSet(maxUnavailable("1")), nodes("n1", "n2"),
				pod("old-n1", "n1", oldHash, phase(corev1.PodFailed)), pod("old-n2", "n2", oldHash)),
				func(s *Snapshot) { s.Backoff = fixedBackoff{"n1": 30 * time.Second} }),
			wantRequeue: 30 * time.Second,
		},
		{
			name:        "a node without a pod counts as unavailable",
			snap:        snapshot(newSet(maxUnavailable("1")), nodes("n1", "n2", "n3"), oldPods("n2", "n3")...),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name: "minReadySeconds: a ready new pod is not available yet",
			snap: snapshot(newSet(maxUnavailable("1"), minReady(30)), nodes("n1", "n2"),
				pod("new-n1", "n1", newHash, readyAgo(10*time.Second)), pod("old-n2", "n2", oldHash)),
			wantRequeue: 20 * time.Second,
		},
		{
			name:        "rollout with one node",
			snap:        snapshot(newSet(), nodes("n1"), oldPods("n1")...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
	})
}

func TestDecideRollingUpdateWithSurge(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:        "maxSurge 1 starts one new pod beside an old one",
			snap:        snapshot(newSet(maxSurge("1")), nodes(five...), oldPods(five...)...),
			wantCreates: []string{"n1:Surge"},
		},
		{
			name:        "maxSurge 20% of 5 is 1",
			snap:        snapshot(newSet(maxSurge("20%")), nodes(five...), oldPods(five...)...),
			wantCreates: []string{"n1:Surge"},
		},
		{
			name:        "maxSurge 30% of 5 rounds up to 2",
			snap:        snapshot(newSet(maxSurge("30%")), nodes(five...), oldPods(five...)...),
			wantCreates: []string{"n1:Surge", "n2:Surge"},
		},
		{
			name: "minReadySeconds: the old pod stays until the new one is available, and no other node surges",
			snap: snapshot(newSet(maxSurge("20%"), minReady(10)), nodes(five...),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash, readyAgo(4*time.Second), createdAgo(time.Minute))}, oldPods(five...))...),
			wantRequeue: 6 * time.Second,
		},
		{
			name: "minReadySeconds: once the new pod is available the old goes and the next node surges",
			snap: snapshot(newSet(maxSurge("20%"), minReady(10)), nodes(five...),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash, readyAgo(10*time.Second), createdAgo(time.Minute))}, oldPods(five...))...),
			wantCreates: []string{"n2:Surge"},
			wantDeletes: []string{"old-n1:SurgeReplaced"},
		},
		{
			name: "an unavailable old pod gets its new pod at once, beyond maxSurge",
			snap: snapshot(newSet(maxSurge("1")), nodes("n1", "n2", "n3"),
				pod("new-n1", "n1", newHash, notReady(), createdAgo(time.Minute)), pod("old-n1", "n1", oldHash),
				pod("old-n2", "n2", oldHash), pod("old-n3", "n3", oldHash, notReady())),
			wantCreates: []string{"n3:Surge"},
		},
		{
			name:        "a new node gets its pod while others surge",
			snap:        snapshot(newSet(maxSurge("1")), nodes("n1", "n2", "n3"), oldPods("n1", "n2")...),
			wantCreates: []string{"n1:Surge", "n3:NodeWithoutPod"},
		},
		{
			name: "an available old pod on a node that takes no new pods goes only when enough others are available",
			snap: snapshot(newSet(maxSurge("1")),
				[]*corev1.Node{node("n1", taint("dedicated", corev1.TaintEffectNoSchedule)), node("n2")},
				pod("old-n1", "n1", oldHash), pod("new-n2", "n2", newHash)),
			wantDeletes: []string{"old-n1:RollingUpdate"},
		},
		{
			name: "an available old pod on a node that takes no new pods stays while it is needed",
			snap: snapshot(newSet(maxSurge("1")),
				[]*corev1.Node{node("n1", taint("dedicated", corev1.TaintEffectNoSchedule)), node("n2")},
				pod("old-n1", "n1", oldHash), pod("new-n2", "n2", newHash, notReady())),
		},
	})
}

func TestDecideRolloutControls(t *testing.T) {
	partitioned := func(p string, updated ...string) Snapshot {
		var pods []*corev1.Pod
		isNew := map[string]bool{}
		for _, n := range updated {
			isNew[n] = true
			pods = append(pods, pod("new-"+n, n, newHash))
		}
		for _, n := range five {
			if !isNew[n] {
				pods = append(pods, pod("old-"+n, n, oldHash))
			}
		}
		return snapshot(newSet(maxUnavailable("5"), partition(p)), nodes(five...), pods...)
	}
	runPlanCases(t, []planCase{
		{
			name: "paused: no old pod is replaced, a new node gets its pod, a failed pod is replaced",
			snap: snapshot(newSet(paused()), nodes("n1", "n2", "n3", "n4"),
				pod("old-n1", "n1", oldHash), pod("old-n2", "n2", oldHash, notReady()),
				pod("old-n3", "n3", oldHash, phase(corev1.PodFailed))),
			wantCreates:     []string{"n4:NodeWithoutPod"},
			wantDeletes:     []string{"old-n3:PodFailed"},
			wantBackoffNext: []string{"n3"},
		},
		{
			name: "paused with surge: no new pod starts, a running one still completes its replacement",
			snap: snapshot(newSet(maxSurge("2"), paused()), nodes("n1", "n2", "n3"),
				pod("old-n1", "n1", oldHash), pod("new-n1", "n1", newHash, createdAgo(time.Minute)),
				pod("old-n2", "n2", oldHash), pod("old-n3", "n3", oldHash, notReady())),
			wantDeletes: []string{"old-n1:SurgeReplaced"},
		},
		{
			name:        "partition 2 of 5 updates the first 3 nodes",
			snap:        partitioned("2"),
			wantDeletes: []string{"old-n1:RollingUpdate", "old-n2:RollingUpdate", "old-n3:RollingUpdate"},
		},
		{
			name:        "partition 2 of 5 counts nodes already updated",
			snap:        partitioned("2", "n1", "n2"),
			wantDeletes: []string{"old-n3:RollingUpdate"},
		},
		{
			name: "partition 2 of 5 reached",
			snap: partitioned("2", "n1", "n2", "n3"),
		},
		{
			name:        "partition lowered to 0 continues",
			snap:        partitioned("0", "n1", "n2", "n3"),
			wantDeletes: []string{"old-n4:RollingUpdate", "old-n5:RollingUpdate"},
		},
		{
			name:        "partition 40% of 5 is 2",
			snap:        partitioned("40%", "n1"),
			wantDeletes: []string{"old-n2:RollingUpdate", "old-n3:RollingUpdate"},
		},
		{
			name: "partition larger than the node count holds everything",
			snap: partitioned("9"),
		},
		{
			name: "partition counts a node without a pod as updated",
			snap: snapshot(newSet(maxUnavailable("5"), partition("2")), nodes(five...), oldPods("n2", "n3", "n4", "n5")...),
			// n1 gets a new pod; two more nodes are updated.
			wantCreates: []string{"n1:NodeWithoutPod"},
			wantDeletes: []string{"old-n2:RollingUpdate", "old-n3:RollingUpdate"},
		},
		{
			name: "partition takes an unavailable old pod first",
			snap: snapshot(newSet(maxUnavailable("2"), partition("4")), nodes(five...),
				concat(oldPods("n1", "n2", "n3", "n4"), []*corev1.Pod{pod("old-n5", "n5", oldHash, notReady())})...),
			wantDeletes: []string{"old-n5:RollingUpdate"},
		},
		{
			name:        "partition with surge",
			snap:        snapshot(newSet(maxSurge("5"), partition("3")), nodes(five...), oldPods(five...)...),
			wantCreates: []string{"n1:Surge", "n2:Surge"},
		},
		{
			name: "OnDelete replaces nothing, but a failed or missing pod is replaced",
			snap: snapshot(newSet(onDelete()), nodes("n1", "n2", "n3"),
				pod("old-n1", "n1", oldHash), pod("old-n2", "n2", oldHash, phase(corev1.PodFailed))),
			wantCreates:     []string{"n3:NodeWithoutPod"},
			wantDeletes:     []string{"old-n2:PodFailed"},
			wantBackoffNext: []string{"n2"},
		},
		{
			name: "expectations not satisfied: no action at all",
			snap: with(snapshot(newSet(), nodes("n1", "n2", "n3"),
				pod("old-n1", "n1", oldHash), pod("old-n2", "n2", oldHash, phase(corev1.PodFailed))),
				func(s *Snapshot) { s.ExpectationsSatisfied = false }),
		},
		{
			name: "set being deleted: no action at all",
			snap: snapshot(newSet(func(s *v1alpha1.NodeAgentSet) { s.DeletionTimestamp = ptrTime(t0) }),
				nodes("n1", "n2"), oldPods("n1")...),
		},
		{
			name:        "invalid maxUnavailable: no update action, manage still runs",
			snap:        snapshot(newSet(maxUnavailable("ten")), nodes("n1", "n2"), oldPods("n1")...),
			wantCreates: []string{"n2:NodeWithoutPod"},
		},
	})
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

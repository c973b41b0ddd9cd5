package planner

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

type planCase struct {
	name            string
	snap            Snapshot
	wantCreates     []string
	wantDeletes     []string
	wantBackoffNext []string
	wantRequeue     time.Duration
}

func runPlanCases(t *testing.T, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.snap.Set.DeepCopy()
			plan := Decide(tc.snap)
			creates, deletes := summary(plan)
			if !reflect.DeepEqual(creates, tc.wantCreates) {
				t.Errorf("creates = %v, want %v", creates, tc.wantCreates)
			}
			if !reflect.DeepEqual(deletes, tc.wantDeletes) {
				t.Errorf("deletes = %v, want %v", deletes, tc.wantDeletes)
			}
			if !reflect.DeepEqual(plan.BackoffNext, tc.wantBackoffNext) {
				t.Errorf("backoffNext = %v, want %v", plan.BackoffNext, tc.wantBackoffNext)
			}
			if want := withFreshDeadline(tc.snap, plan, tc.wantRequeue); plan.RequeueAfter != want {
				t.Errorf("requeueAfter = %v, want %v", plan.RequeueAfter, want)
			}
			if !reflect.DeepEqual(before, tc.snap.Set) {
				t.Errorf("Decide modified the set")
			}
			// The same snapshot always gives the same plan.
			if again := Decide(tc.snap); !reflect.DeepEqual(again, plan) {
				t.Errorf("a second Decide on the same snapshot gave a different plan")
			}
		})
	}
}

// withFreshDeadline is the requeue a table that is about other timers expects once the progress deadline is taken
// into account: a rollout that starts counting in this pass (base = now) also wakes up when its full deadline
// passes, whichever comes first.
func withFreshDeadline(snap Snapshot, plan Plan, want time.Duration) time.Duration {
	base := plan.Status.ProgressDeadlineBase
	if base == nil || !base.Time.Equal(snap.Now) {
		return want
	}
	deadline := time.Duration(v1alpha1.DefaultProgressDeadline(snap.Set.Spec.MinReadySeconds)) * time.Second
	if p := snap.Set.Spec.ProgressDeadlineSeconds; p != nil {
		deadline = time.Duration(*p) * time.Second
	}
	if want == 0 || deadline < want {
		return deadline
	}
	return want
}

func with(s Snapshot, f func(*Snapshot)) Snapshot {
	f(&s)
	return s
}

func TestDecideManage(t *testing.T) {
	surge := maxSurge("1")
	runPlanCases(t, []planCase{
		{
			name:        "one node without a pod gets one",
			snap:        snapshot(newSet(), nodes("n1")),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name:        "five nodes without pods get one each, in name order",
			snap:        snapshot(newSet(), nodes("n5", "n3", "n1", "n4", "n2")),
			wantCreates: []string{"n1:NodeWithoutPod", "n2:NodeWithoutPod", "n3:NodeWithoutPod", "n4:NodeWithoutPod", "n5:NodeWithoutPod"},
		},
		{
			name: "five nodes with a current pod each need nothing",
			snap: snapshot(newSet(), nodes("n1", "n2", "n3", "n4", "n5"),
				pod("a", "n1", newHash), pod("b", "n2", newHash), pod("c", "n3", newHash), pod("d", "n4", newHash), pod("e", "n5", newHash)),
		},
		{
			name:            "failed pod out of backoff is deleted and the backoff advances",
			snap:            snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, phase(corev1.PodFailed))),
			wantDeletes:     []string{"a:PodFailed"},
			wantBackoffNext: []string{"n1"},
		},
		{
			name: "failed pod in backoff is kept until the backoff ends",
			snap: with(snapshot(newSet(), nodes("n1", "n2"), pod("a", "n1", newHash, phase(corev1.PodFailed)), pod("b", "n2", newHash)),
				func(s *Snapshot) { s.Backoff = fixedBackoff{"n1": 8 * time.Second} }),
			wantRequeue: 8 * time.Second,
		},
		{
			name:        "deleted failed pod is ignored and the node gets a new pod",
			snap:        snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, phase(corev1.PodFailed), terminating())),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name:        "succeeded pod is deleted",
			snap:        snapshot(newSet(), nodes("n1"), pod("a", "n1", newHash, phase(corev1.PodSucceeded))),
			wantDeletes: []string{"a:PodSucceeded"},
		},
		{
			name: "duplicates are reduced to the oldest",
			snap: snapshot(newSet(), nodes("n1"),
				pod("c", "n1", newHash, createdAgo(time.Minute)),
				pod("a", "n1", newHash, createdAgo(time.Hour)),
				pod("b", "n1", newHash, createdAgo(time.Hour))),
			wantDeletes: []string{"b:DuplicatePod", "c:DuplicatePod"},
		},
		{
			name: "of duplicates a bound pod is kept over an older pending one",
			snap: snapshot(newSet(), nodes("n1"),
				pod("pending", "n1", newHash, createdAgo(time.Hour), pending()),
				pod("bound", "n1", newHash, createdAgo(time.Minute))),
			wantDeletes: []string{"pending:DuplicatePod"},
		},
		{
			name: "nodeSelector picks the labelled nodes and removes the pod from an unlabelled one",
			snap: snapshot(newSet(nodeSelector("disk", "ssd")),
				[]*corev1.Node{node("n1", label("disk", "ssd")), node("n2", label("disk", "hdd")), node("n3", label("disk", "ssd"))},
				pod("b", "n2", newHash)),
			wantCreates: []string{"n1:NodeWithoutPod", "n3:NodeWithoutPod"},
			wantDeletes: []string{"b:NodeIneligible"},
		},
		{
			name: "affinity OR of a zone label and a node name",
			snap: snapshot(newSet(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
						{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"z1"}}}},
						{MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"n3"}}}},
					}},
				}}
			}), []*corev1.Node{node("n1", label("zone", "z1")), node("n2", label("zone", "z2")), node("n3", label("zone", "z2"))}),
			wantCreates: []string{"n1:NodeWithoutPod", "n3:NodeWithoutPod"},
		},
		{
			name:        "a node with an untolerated NoSchedule taint gets no pod",
			snap:        snapshot(newSet(), []*corev1.Node{node("n1", taint("dedicated", corev1.TaintEffectNoSchedule)), node("n2")}),
			wantCreates: []string{"n2:NodeWithoutPod"},
		},
		{
			name: "a NoSchedule taint added later keeps the running pod",
			snap: snapshot(newSet(), []*corev1.Node{node("n1", taint("dedicated", corev1.TaintEffectNoSchedule))},
				pod("a", "n1", newHash)),
		},
		{
			name: "a NoExecute taint evicts the pod",
			snap: snapshot(newSet(), []*corev1.Node{node("n1", taint("dedicated", corev1.TaintEffectNoExecute))},
				pod("a", "n1", newHash)),
			wantDeletes: []string{"a:NodeIneligible"},
		},
		{
			name:        "a cordoned node still runs the pod",
			snap:        snapshot(newSet(), []*corev1.Node{node("n1", taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule))}),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name: "pods on a deleted node are deleted unless already terminating",
			snap: snapshot(newSet(), nodes("n1"),
				pod("a", "n1", newHash), pod("gone", "n9", newHash), pod("gone-pending", "n9", newHash, pending()),
				pod("gone-terminating", "n8", newHash, terminating())),
			wantDeletes: []string{"gone:NodeGone", "gone-pending:NodeGone"},
		},
		{
			name: "without surge a terminating pod blocks the new one",
			snap: snapshot(newSet(), nodes("n1"), pod("a", "n1", oldHash, terminating())),
		},
		{
			name:        "with surge a terminating pod does not block the new one",
			snap:        snapshot(newSet(surge), nodes("n1"), pod("a", "n1", oldHash, terminating())),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name: "with surge a failed pod in backoff still blocks the new one",
			snap: with(snapshot(newSet(surge), nodes("n1"), pod("a", "n1", newHash, phase(corev1.PodFailed))),
				func(s *Snapshot) { s.Backoff = fixedBackoff{"n1": time.Minute} }),
			wantRequeue: time.Minute,
		},
		{
			name: "a pod without a target node is left alone",
			snap: snapshot(newSet(), nodes("n1"), func() *corev1.Pod {
				p := pod("stray", "", newHash)
				return p
			}()),
			wantCreates: []string{"n1:NodeWithoutPod"},
		},
		{
			name: "with surge the oldest pod of each revision stays and the rest go",
			snap: snapshot(newSet(surge), nodes("n1"),
				pod("old-a", "n1", oldHash, createdAgo(3*time.Hour)),
				pod("old-b", "n1", oldHash, createdAgo(2*time.Hour)),
				pod("new-a", "n1", newHash, createdAgo(time.Hour), notReady()),
				pod("new-b", "n1", newHash, createdAgo(time.Minute), notReady())),
			wantDeletes: []string{"new-b:DuplicatePod", "old-b:DuplicatePod"},
		},
		{
			name: "with surge an old pod that is not ready goes once a new pod runs beside it",
			snap: snapshot(newSet(surge), nodes("n1"),
				pod("old", "n1", oldHash, notReady()), pod("new", "n1", newHash, notReady(), createdAgo(time.Minute))),
			wantDeletes: []string{"old:SurgeReplaced"},
		},
	})
}

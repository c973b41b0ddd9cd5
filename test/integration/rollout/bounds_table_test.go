package rollout

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// boundPod is a pod of a revision on a node, ready since readySince unless that is zero.
func boundPod(name, node, hash string, readySince time.Time) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: hash}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "agent", Image: imageV1}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	if !readySince.IsZero() {
		p.Status = testcluster.RunningReadyStatus(&p, readySince)
	}
	return p
}

func deleting(p corev1.Pod) corev1.Pod {
	p.DeletionTimestamp = &metav1.Time{Time: t0}
	return p
}

func expectProblems(t *testing.T, got []string, want string) {
	t.Helper()
	joined := strings.Join(got, "; ")
	switch {
	case want == "" && len(got) > 0:
		t.Errorf("unexpected violations: %s", joined)
	case want != "" && !strings.Contains(joined, want):
		t.Errorf("violations %q do not mention %q", joined, want)
	}
}

func TestNoSurgeBounds(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	tests := []struct {
		name     string
		pods     []corev1.Pod
		wantPeak int
		want     string
	}{
		{
			name:     "all ready",
			pods:     []corev1.Pod{boundPod("a", "n1", "old", t0), boundPod("b", "n2", "old", t0), boundPod("c", "n3", "new", t0)},
			wantPeak: 0,
		},
		{
			name:     "one node replacing within maxUnavailable 1",
			pods:     []corev1.Pod{boundPod("a", "n1", "new", time.Time{}), boundPod("b", "n2", "old", t0), boundPod("c", "n3", "old", t0)},
			wantPeak: 1,
		},
		{
			name:     "a deleting pod does not keep its node available",
			pods:     []corev1.Pod{deleting(boundPod("a", "n1", "old", t0)), deleting(boundPod("b", "n2", "old", t0)), boundPod("c", "n3", "old", t0)},
			wantPeak: 2,
			want:     "2 nodes [n1 n2] lack a ready pod, maxUnavailable is 1",
		},
		{
			name:     "two active pods on a node",
			pods:     []corev1.Pod{boundPod("a", "n1", "old", t0), boundPod("a2", "n1", "new", time.Time{}), boundPod("b", "n2", "old", t0), boundPod("c", "n3", "old", t0)},
			wantPeak: 0,
			want:     `node "n1" runs 2 active pods without surge`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			down := &peak{}
			got := noSurgeBounds(nodes, 1, down)(testcluster.PodEvent{Type: testcluster.PodsSynced, At: t0}, tc.pods)
			expectProblems(t, got, tc.want)
			if down.get() != tc.wantPeak {
				t.Errorf("peak = %d, want %d", down.get(), tc.wantPeak)
			}
		})
	}
}

func TestSurgeBounds(t *testing.T) {
	const minReady = 3 * time.Second
	nodes := []string{"n1", "n2", "n3"}
	at := t0.Add(10 * time.Second)
	oldA, oldB, oldC := boundPod("a", "n1", "old", t0), boundPod("b", "n2", "old", t0), boundPod("c", "n3", "old", t0)
	tests := []struct {
		name string
		ev   testcluster.PodEvent
		pods []corev1.Pod
		want string
	}{
		{
			name: "one node surging",
			ev:   testcluster.PodEvent{Type: testcluster.PodAdded, At: at},
			pods: []corev1.Pod{oldA, boundPod("a2", "n1", "new", time.Time{}), oldB, oldC},
		},
		{
			name: "a node whose new pod is available no longer counts as surging",
			ev:   testcluster.PodEvent{Type: testcluster.PodAdded, At: at},
			pods: []corev1.Pod{oldA, boundPod("a2", "n1", "new", at.Add(-minReady)), oldB, boundPod("b2", "n2", "new", time.Time{}), oldC},
		},
		{
			name: "two nodes surging with maxSurge 1",
			ev:   testcluster.PodEvent{Type: testcluster.PodAdded, At: at},
			pods: []corev1.Pod{oldA, boundPod("a2", "n1", "new", time.Time{}), oldB, boundPod("b2", "n2", "new", at.Add(-time.Second)), oldC},
			want: "2 nodes [n1 n2] run a new pod that is not available yet beside an old one, maxSurge is 1",
		},
		{
			name: "a node without a ready pod",
			ev:   testcluster.PodEvent{Type: testcluster.PodModified, At: at},
			pods: []corev1.Pod{deleting(oldA), boundPod("a2", "n1", "new", time.Time{}), oldB, oldC},
			want: `node "n1" lacks a ready pod`,
		},
		{
			name: "two new pods on a node",
			ev:   testcluster.PodEvent{Type: testcluster.PodAdded, At: at},
			pods: []corev1.Pod{boundPod("a2", "n1", "new", t0), boundPod("a3", "n1", "new", time.Time{}), oldB, oldC},
			want: `node "n1" runs two pods of one revision`,
		},
		{
			name: "an old pod deleted after its replacement was available for minReadySeconds",
			ev:   testcluster.PodEvent{Type: testcluster.PodDeleted, Pod: &oldA, At: at},
			pods: []corev1.Pod{boundPod("a2", "n1", "new", at.Add(-minReady)), oldB, oldC},
		},
		{
			name: "an old pod deleted too early",
			ev:   testcluster.PodEvent{Type: testcluster.PodDeleted, Pod: &oldA, At: at},
			pods: []corev1.Pod{boundPod("a2", "n1", "new", at.Add(-time.Second)), oldB, oldC},
			want: "old pod a on \"n1\" deleted when its replacement a2 was ready true",
		},
		{
			name: "an old pod deleted with no replacement",
			ev:   testcluster.PodEvent{Type: testcluster.PodDeleted, Pod: &oldA, At: at},
			pods: []corev1.Pod{oldB, oldC},
			want: "deleted with no new pod beside it",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := surgeBounds(nodes, 1, "old", minReady, &peak{})(tc.ev, tc.pods)
			expectProblems(t, got, tc.want)
		})
	}
}

func TestActiveByTargetNodeCountsPinnedPods(t *testing.T) {
	pinned := boundPod("p", "", "new", time.Time{})
	pinned.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}},
		}}},
	}}
	byNode := activeByTargetNode([]corev1.Pod{boundPod("a", "n1", "old", t0), pinned})
	if len(byNode["n1"]) != 2 {
		t.Errorf("pods counted for n1 = %d, want 2 (the bound one and the pinned one)", len(byNode["n1"]))
	}
}

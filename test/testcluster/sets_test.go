package testcluster

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func readyPod(name, node, hash string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: hash}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "agent", Image: DefaultImage}}},
	}
	p.Status = RunningReadyStatus(&p, time.Unix(1000, 0))
	return p
}

func settledSet(n int32) *v1alpha1.NodeAgentSet {
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent", Generation: 2},
		Status: v1alpha1.NodeAgentSetStatus{
			DesiredNumberScheduled: n, CurrentNumberScheduled: n, NumberReady: n, UpdatedNumberScheduled: n,
			NumberAvailable: n, ObservedGeneration: 2, UpdateRevision: "agent-abc",
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 2}},
		},
	}
}

func TestSetViewCheckPodsOn(t *testing.T) {
	deleting := readyPod("deleting", "n1", "abc")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Unix(2000, 0)}
	failed := readyPod("failed", "n1", "abc")
	failed.Status.Phase = corev1.PodFailed
	notReady := readyPod("pending", "n1", "abc")
	notReady.Status = corev1.PodStatus{Phase: corev1.PodPending}

	tests := []struct {
		name    string
		pods    []corev1.Pod
		nodes   []string
		wantErr string
	}{
		{name: "one updated ready pod per node", pods: []corev1.Pod{readyPod("a", "n1", "abc"), readyPod("b", "n2", "abc")}, nodes: []string{"n1", "n2"}},
		{name: "no nodes, no pods", nodes: nil},
		{name: "a node without pod", pods: []corev1.Pod{readyPod("a", "n1", "abc")}, nodes: []string{"n1", "n2"}, wantErr: "node n2 has no pod"},
		{name: "two pods on a node", pods: []corev1.Pod{readyPod("a", "n1", "abc"), readyPod("b", "n1", "abc")}, nodes: []string{"n1"}, wantErr: "node n1 has 2 pods"},
		{name: "a pod on an unexpected node", pods: []corev1.Pod{readyPod("a", "n1", "abc"), readyPod("b", "n9", "abc")}, nodes: []string{"n1"}, wantErr: `unexpected pods [b] on node "n9"`},
		{name: "an unbound pod is unexpected", pods: []corev1.Pod{readyPod("a", "", "abc")}, nodes: nil, wantErr: `on node ""`},
		{name: "a pod of an old revision", pods: []corev1.Pod{readyPod("a", "n1", "old")}, nodes: []string{"n1"}, wantErr: `has hash "old"`},
		{name: "a pod that is not ready", pods: []corev1.Pod{notReady}, nodes: []string{"n1"}, wantErr: "is not ready"},
		{name: "deleting and ended pods do not count", pods: []corev1.Pod{deleting, failed, readyPod("a", "n1", "abc")}, nodes: []string{"n1"}},
		{name: "only deleting pods leave the node empty", pods: []corev1.Pod{deleting}, nodes: []string{"n1"}, wantErr: "node n1 has no pod"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &SetView{Set: settledSet(int32(len(tc.nodes))), Pods: tc.pods}
			checkErr(t, v.CheckPodsOn(tc.nodes), tc.wantErr)
		})
	}
}

func TestSetViewCheckStatus(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*v1alpha1.NodeAgentSet)
		wantErr string
	}{
		{name: "settled", mutate: func(*v1alpha1.NodeAgentSet) {}},
		{name: "a count is off", mutate: func(s *v1alpha1.NodeAgentSet) { s.Status.NumberReady = 2 }, wantErr: "status.numberReady = 2, want 3"},
		{name: "misscheduled pods", mutate: func(s *v1alpha1.NodeAgentSet) { s.Status.NumberMisscheduled = 1 }, wantErr: "status.numberMisscheduled = 1, want 0"},
		{name: "generation not observed", mutate: func(s *v1alpha1.NodeAgentSet) { s.Generation = 3 }, wantErr: "observedGeneration = 2, generation is 3"},
		{name: "no Ready condition", mutate: func(s *v1alpha1.NodeAgentSet) { s.Status.Conditions = nil }, wantErr: "no Ready condition"},
		{name: "Ready False", mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Status.Conditions[0].Status = metav1.ConditionFalse
			s.Status.Conditions[0].Reason = "PodsUnavailable"
		}, wantErr: "Ready condition is False (PodsUnavailable"},
		{name: "Reconciling True", mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Status.Conditions = append(s.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue})
		}, wantErr: "Reconciling condition is True"},
		{name: "Reconciling False is fine", mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Status.Conditions = append(s.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionFalse})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := settledSet(3)
			tc.mutate(set)
			checkErr(t, (&SetView{Set: set}).CheckStatus(3), tc.wantErr)
		})
	}
}

func TestTargetNode(t *testing.T) {
	pinned := func(values ...string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: values}},
			}}},
		}}}}
	}
	bound := pinned("n1")
	bound.Spec.NodeName = "n2"
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{name: "bound pod: its node", pod: bound, want: "n2"},
		{name: "pinned pod: the pinned node", pod: pinned("n1"), want: "n1"},
		{name: "several names: no single target", pod: pinned("n1", "n2"), want: ""},
		{name: "neither bound nor pinned", pod: &corev1.Pod{}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TargetNode(tc.pod); got != tc.want {
				t.Errorf("TargetNode() = %q, want %q", got, tc.want)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not contain %q", err, want)
	}
}

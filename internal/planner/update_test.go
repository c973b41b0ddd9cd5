package planner

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod gets one action per pass: a deletion wins over an in-place update, whichever the pass decides first, and a
// second update of the same pod keeps the first.
func TestOneActionPerPod(t *testing.T) {
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
	}
	tests := []struct {
		name        string
		act         func(d *decision)
		wantUpdates []UpdateReason
		wantDeletes int
	}{
		{name: "update then delete", act: func(d *decision) {
			d.update(PodUpdate{Pod: pod("a"), Reason: UpdateRelabel})
			d.delete(pod("a"), DeleteRollingUpdate, "")
		}, wantDeletes: 1},
		{name: "delete then update", act: func(d *decision) {
			d.delete(pod("a"), DeleteRollingUpdate, "")
			d.update(PodUpdate{Pod: pod("a"), Reason: UpdateRelabel})
		}, wantDeletes: 1},
		{name: "two updates keep the first", act: func(d *decision) {
			d.update(PodUpdate{Pod: pod("a"), Reason: UpdateInPlace})
			d.update(PodUpdate{Pod: pod("a"), Reason: UpdateRelabel})
		}, wantUpdates: []UpdateReason{UpdateInPlace}},
		{name: "updates come out sorted by pod", act: func(d *decision) {
			d.update(PodUpdate{Pod: pod("b"), Reason: UpdateRelabel})
			d.update(PodUpdate{Pod: pod("a"), Reason: UpdateInPlace})
		}, wantUpdates: []UpdateReason{UpdateInPlace, UpdateRelabel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &decision{deletes: map[string]PodDeletion{}, updates: map[string]PodUpdate{}}
			tt.act(d)
			var got []UpdateReason
			for _, u := range d.sortedUpdates() {
				got = append(got, u.Reason)
			}
			if len(got) != len(tt.wantUpdates) {
				t.Fatalf("updates = %v, want %v", got, tt.wantUpdates)
			}
			for i := range got {
				if got[i] != tt.wantUpdates[i] {
					t.Fatalf("updates = %v, want %v", got, tt.wantUpdates)
				}
			}
			if n := len(d.sortedDeletes()); n != tt.wantDeletes {
				t.Errorf("deletes = %d, want %d", n, tt.wantDeletes)
			}
		})
	}
}

package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// countingRecorder counts what reaches the real recorder.
type countingRecorder struct {
	events.FakeRecorder
	n int
}

func (c *countingRecorder) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...any) { c.n++ }

func TestBudgetedRecorderSpendsUpstreamsBudgetPerObjectAndType(t *testing.T) {
	set := func(uid string) *v1alpha1.NodeAgentSet {
		return &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent", UID: types.UID("uid-" + uid)}}
	}
	tests := []struct {
		name string
		emit func(r *budgetedRecorder, clk *testingclock.FakeClock)
		want int
	}{
		{name: "a burst of 25 passes, the 26th does not", emit: func(r *budgetedRecorder, _ *testingclock.FakeClock) {
			s := set("a")
			for range 26 {
				r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
			}
		}, want: 25},
		{name: "one more after five minutes", emit: func(r *budgetedRecorder, clk *testingclock.FakeClock) {
			s := set("a")
			for range 30 {
				r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
			}
			clk.Step(eventRefill)
			r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
			r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
		}, want: 26},
		{name: "warnings have their own budget", emit: func(r *budgetedRecorder, _ *testingclock.FakeClock) {
			s := set("a")
			for range 30 {
				r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
			}
			r.Eventf(s, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating pod")
		}, want: 26},
		{name: "each set has its own budget", emit: func(r *budgetedRecorder, _ *testingclock.FakeClock) {
			for _, s := range []*v1alpha1.NodeAgentSet{set("a"), set("b")} {
				for range 30 {
					r.Eventf(s, nil, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created pod")
				}
			}
		}, want: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(time.Unix(1000, 0))
			next := &countingRecorder{}
			r := newBudgetedRecorder(next, clk)
			tt.emit(r, clk)
			if next.n != tt.want {
				t.Errorf("%d events passed, want %d", next.n, tt.want)
			}
		})
	}
}

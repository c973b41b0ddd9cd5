package controller

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// The pod event handler picks how soon a pod event's pass comes: a fifth of the pass spacing after the last pass when
// a pod of the set is gone and nothing the set wrote is on its way, the whole spacing otherwise, nothing for a pod
// whose set is gone. enqueueForPodGone's own timing is TestEnqueueForPodGone; this is the choice between it and the
// paced pass.
//
// A fake client, a fake clock and a queue that records the delays, rather than the real API server of
// test/integration: what differs between the cases is whether a pass is due 100 or 500 milliseconds after the last,
// which a test against a real server and informer could only tell with timed assertions. The set is read from the
// fake client, as setForPod does when it has no informer store.
func TestPodEventPassTiming(t *testing.T) {
	const spacing = 500 * time.Millisecond
	setKey := types.NamespacedName{Namespace: "ns", Name: "agent"}
	owner := metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: setKind, Name: "agent",
		UID: "set-uid", Controller: ptr.To(true)}
	pod := func(name string, uid types.UID, ownerUID types.UID) *corev1.Pod {
		ref := owner
		ref.UID = ownerUID
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: uid, ResourceVersion: "5",
			OwnerReferences: []metav1.OwnerReference{ref}}}
	}
	gone := pod("agent-a", "pod-a", "set-uid")
	terminating := gone.DeepCopy()
	terminating.ResourceVersion = "6"
	terminating.DeletionTimestamp = ptr.To(metav1.NewTime(time.Unix(900, 0)))

	tests := []struct {
		name string
		// expect is what the set still waits for before the event.
		expect func(e *expectations)
		send   func(h *podEventHandler, q queue)
		// due is how long after the last pass the event's pass is due; 0 for no pass at all.
		due time.Duration
	}{
		{
			name: "a pod gone, nothing pending: a fifth of the spacing",
			send: func(h *podEventHandler, q queue) {
				h.Delete(context.Background(), event.DeleteEvent{Object: gone}, q)
			},
			due: spacing / promptSpacingDivisor,
		},
		{
			name:   "the set's own expected delete observed as the pod goes: a fifth of the spacing",
			expect: func(e *expectations) { e.ExpectDelete(setKey, "pod-a") },
			send: func(h *podEventHandler, q queue) {
				h.Delete(context.Background(), event.DeleteEvent{Object: gone}, q)
			},
			due: spacing / promptSpacingDivisor,
		},
		{
			name:   "a pod gone while a create is on its way: paced",
			expect: func(e *expectations) { e.ExpectCreate(setKey, "node-b") },
			send: func(h *podEventHandler, q queue) {
				h.Delete(context.Background(), event.DeleteEvent{Object: gone}, q)
			},
			due: spacing,
		},
		{
			name: "a graceful delete begins (the node is still held): paced",
			send: func(h *podEventHandler, q queue) {
				h.Update(context.Background(), event.UpdateEvent{ObjectOld: gone, ObjectNew: terminating}, q)
			},
			due: spacing,
		},
		{
			name: "a pod whose set is gone (another UID): no pass",
			send: func(h *podEventHandler, q queue) {
				h.Delete(context.Background(), event.DeleteEvent{Object: pod("agent-a", "pod-a", "old-set-uid")}, q)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent", UID: "set-uid"}}
			clk := testingclock.NewFakeClock(time.Unix(1000, 0))
			r := &NodeAgentSetReconciler{
				client:       fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(set).Build(),
				clock:        clk,
				expectations: newExpectations(clk),
				pacer:        newSpacer(clk, spacing),
				writeRate:    &watchedRateLimiter{RateLimiter: &scriptedLimiter{tokens: 100}, clock: clk},
			}
			q := &recordingQueue{}
			if tt.expect != nil {
				tt.expect(r.expectations)
			}
			const sincePass = 10 * time.Millisecond
			r.pacer.mark(setKey)
			clk.Step(sincePass)
			tt.send(&podEventHandler{r: r}, q)
			if tt.due == 0 {
				if len(q.queued) != 0 {
					t.Fatalf("queued %+v, want no pass", q.queued)
				}
				return
			}
			q.expectOne(t, setKey, tt.due-sincePass)
		})
	}
}

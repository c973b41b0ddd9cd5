package controller

import (
	"context"
	"encoding/json"
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
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// The pod event handler picks how soon a pod event's pass comes: a fifth of the pass spacing after the last pass when
// the event frees what a rolling update waits for (a pod of the set gone, or turned ready during a rollout with
// minReadySeconds 0) and nothing the set wrote is on its way, the whole spacing otherwise, nothing for a pod whose set
// is gone. enqueueForFreedSlot's own timing is TestEnqueueForFreedSlot; this is the choice between it and the paced
// pass.
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
	starting := pod("agent-a", "pod-a", "set-uid")
	starting.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	ready := starting.DeepCopy()
	ready.ResourceVersion = "6"
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(time.Unix(990, 0))}}
	stillReady := ready.DeepCopy()
	stillReady.ResourceVersion = "7"
	update := func(oldPod, newPod *corev1.Pod) func(h *podEventHandler, q queue) {
		return func(h *podEventHandler, q queue) {
			h.Update(context.Background(), event.UpdateEvent{ObjectOld: oldPod, ObjectNew: newPod}, q)
		}
	}
	turnReady := update(starting, ready)
	progressing := func(status metav1.ConditionStatus, reason string) func(set *v1alpha1.NodeAgentSet) {
		return func(set *v1alpha1.NodeAgentSet) {
			set.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionProgressing, Status: status,
				Reason: reason}}
		}
	}
	// rolling: the stored Progressing condition says a rolling update is replacing old pods.
	rolling := progressing(metav1.ConditionTrue, v1alpha1.ReasonRollingUpdate)

	// A pod patched in place to agent:2: Ready all along, but pending until its container runs the new image.
	before := &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
		{Name: "agent", Image: "agent:1", ImageID: "sha-1", RestartCount: 0}}}}
	state, err := json.Marshal(placement.NewInPlaceUpdateState(before, "h2", map[string]string{"agent": "agent:2"}))
	if err != nil {
		t.Fatal(err)
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	patched := ready.DeepCopy()
	patched.ResourceVersion = "7"
	patched.Labels = map[string]string{v1alpha1.ControllerRevisionHashLabel: "h2"}
	patched.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(state)}
	patched.Spec.Containers = []corev1.Container{{Name: "agent", Image: "agent:2"}}
	patched.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: "agent:1", ImageID: "sha-1",
		Ready: true, State: running}}
	restarted := patched.DeepCopy()
	restarted.ResourceVersion = "8"
	restarted.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: "agent:2", ImageID: "sha-2",
		RestartCount: 1, Ready: true, State: running}}

	tests := []struct {
		name string
		// set changes the set from one that is not rolling out.
		set func(set *v1alpha1.NodeAgentSet)
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
			send: update(gone, terminating),
			due:  spacing,
		},
		{
			name: "a pod turns ready during a rollout, nothing pending: a fifth of the spacing",
			set:  rolling,
			send: turnReady,
			due:  spacing / promptSpacingDivisor,
		},
		{
			name: "a pod updated in place runs its new image, ready: a fifth of the spacing",
			set:  rolling,
			send: update(patched, restarted),
			due:  spacing / promptSpacingDivisor,
		},
		{
			name: "a pod updated in place, its Ready condition still true on the old image: paced",
			set:  rolling,
			send: update(ready, patched),
			due:  spacing,
		},
		{
			name: "a pod turns ready with no rollout going on: paced",
			send: turnReady,
			due:  spacing,
		},
		{
			name: "a pod turns ready once the rollout is complete: paced",
			set:  progressing(metav1.ConditionTrue, v1alpha1.ReasonRolloutComplete),
			send: turnReady,
			due:  spacing,
		},
		{
			name: "a pod turns ready while the rollout is paused: paced",
			set:  progressing(metav1.ConditionFalse, v1alpha1.ReasonRolloutPaused),
			send: turnReady,
			due:  spacing,
		},
		{
			name: "a canary pod turns ready: a fifth of the spacing",
			set:  progressing(metav1.ConditionTrue, v1alpha1.ReasonCanaryRunning),
			send: turnReady,
			due:  spacing / promptSpacingDivisor,
		},
		{
			name: "a pod turns ready during a rollout with minReadySeconds: paced (the planner requeues for it)",
			set: func(set *v1alpha1.NodeAgentSet) {
				rolling(set)
				set.Spec.MinReadySeconds = 10
			},
			send: turnReady,
			due:  spacing,
		},
		{
			name:   "a pod turns ready during a rollout while a create is on its way: paced",
			set:    rolling,
			expect: func(e *expectations) { e.ExpectCreate(setKey, "node-b") },
			send:   turnReady,
			due:    spacing,
		},
		{
			name: "a ready pod changes during a rollout: paced",
			set:  rolling,
			send: update(ready, stillReady),
			due:  spacing,
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
			if tt.set != nil {
				tt.set(set)
			}
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

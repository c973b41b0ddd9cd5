package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/metrics"
)

// mergeConditions lays the planner's conditions over the stored ones: a condition whose status did not change keeps
// its lastTransitionTime, and conditions of types this controller does not own stay as other writers left them.
func mergeConditions(stored, planned []metav1.Condition) []metav1.Condition {
	merged := make([]metav1.Condition, len(stored))
	copy(merged, stored)
	for _, c := range planned {
		meta.SetStatusCondition(&merged, c)
	}
	return merged
}

// writeStatus writes the planned status through the status subresource, only when it differs from the stored one,
// and updates the set's metrics.
func (r *NodeAgentSetReconciler) writeStatus(ctx context.Context, set *v1alpha1.NodeAgentSet, planned v1alpha1.NodeAgentSetStatus) error {
	next := planned
	next.Conditions = mergeConditions(set.Status.Conditions, planned.Conditions)
	r.rollouts.observe(client.ObjectKeyFromObject(set), next, r.clock.Now())
	if equality.Semantic.DeepEqual(set.Status, next) {
		metrics.RecordStatus(set)
		return nil
	}
	updated := set.DeepCopy()
	updated.Status = next
	if err := r.client.Status().Update(ctx, updated); err != nil {
		return err
	}
	metrics.RecordStatus(updated)
	return nil
}

func forgetMetrics(key types.NamespacedName) { metrics.Forget(key.Namespace, key.Name) }

// rolloutTracker measures rollouts for the rollout-duration histogram: from the first pass that sees a new update
// revision to the first pass that finds it complete. It lives in memory, so a rollout that spans a controller restart
// is not measured rather than measured wrong.
type rolloutTracker struct {
	mu    sync.Mutex
	bySet map[types.NamespacedName]rolloutStart
}

type rolloutStart struct {
	revision string
	at       time.Time
	done     bool
}

func newRolloutTracker() *rolloutTracker {
	return &rolloutTracker{bySet: map[types.NamespacedName]rolloutStart{}}
}

func (t *rolloutTracker) observe(key types.NamespacedName, status v1alpha1.NodeAgentSetStatus, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, known := t.bySet[key]
	if !known || cur.revision != status.UpdateRevision {
		// The first revision a controller sees for a set is not a rollout it watched start.
		t.bySet[key] = rolloutStart{revision: status.UpdateRevision, at: now, done: !known}
		return
	}
	ready := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady)
	if cur.done || ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != v1alpha1.ReasonRolloutComplete {
		return
	}
	cur.done = true
	t.bySet[key] = cur
	metrics.ObserveRolloutDuration(key.Namespace, key.Name, now.Sub(cur.at).Seconds())
}

func (t *rolloutTracker) forget(key types.NamespacedName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.bySet, key)
}

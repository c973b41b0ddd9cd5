package controller

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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
// and updates the set's metrics. A write that completes a rollout records its duration: "complete" is the Ready
// condition's judgement (metrics.RolloutCompleted), and the start is read from the update revision
// (rolloutStart), so a rollout that spans a restart or a leader failover is measured once and from its real start.
func (r *NodeAgentSetReconciler) writeStatus(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, planned v1alpha1.NodeAgentSetStatus) error {
	next := planned
	next.Conditions = mergeConditions(set.Status.Conditions, planned.Conditions)
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
	if start, ok := rolloutStart(update); ok && metrics.RolloutCompleted(set.Status, next) {
		metrics.ObserveRolloutDuration(set.Namespace, set.Name, r.clock.Now().Sub(start).Seconds())
	}
	return nil
}

func forgetMetrics(key types.NamespacedName) { metrics.Forget(key.Namespace, key.Name) }

// updateRevisionSinceAnnotation is on a ControllerRevision that became the update revision again (a rollback
// renumbers it): the RFC 3339 time it did. A revision created for a new template started its rollout when it was
// created.
const updateRevisionSinceAnnotation = "apps.nodeagentset.io/update-revision-since"

// rolloutStart is when the rollout to rev began: rev's update-revision-since annotation, or its creation time. ok is
// false for the set's first revision (the initial placement is not a rollout) and when rev is nil.
func rolloutStart(rev *appsv1.ControllerRevision) (time.Time, bool) {
	if rev == nil || rev.Revision <= 1 {
		return time.Time{}, false
	}
	if since, err := time.Parse(time.RFC3339, rev.Annotations[updateRevisionSinceAnnotation]); err == nil {
		return since, true
	}
	return rev.CreationTimestamp.Time, !rev.CreationTimestamp.IsZero()
}

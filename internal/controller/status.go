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

// defaultStatusSpacing is the least time between two status writes of a set that change only what a rollout's
// progress moves: the pod counts, the conditions' messages (not a Stalled=True one's), the overrides' node counts
// and small moves of the progress deadline's base (onlyProgress).
//
// Why: during a rollout nearly every pass moves a count, so a set wrote its status on nearly every pass, and a
// NodeAgentSet status write costs the API server three times a DaemonSet's (a custom resource: JSON, the structural
// schema and CEL rules; docs/benchmarks.md, "What one write adds"): 45 to 55 writes in a 1000-node rollout, about
// 0.6 s of the API server's CPU, where spaced they are 15 to 30. Why a second: it is what `kubectl nas rollout
// status` and a person watching need, and every change a reader judges by is written at once: a condition's status
// or reason (the rollout done or failed, the judgement kstatus, the plugin, Argo CD and the metrics read),
// observedGeneration, the revisions, the canary, collisionCount.
// Nothing is lost by waiting: a write held back asks for a pass when the spacing is over (Reconcile's requeue), and
// that pass writes what it observes then; a pass whose pod writes failed writes its status at once, since the
// error's backoff may keep the next pass away for long. The planner reads the stored status only for what is
// written at once (a Stalled=True condition's message among it: a refused create lives there between passes) and
// for the progress deadline's base, which it moves to the latest available new pod it sees. A base held back may
// move by less than the spacing only, so if the pods that moved it stop being available before the write, the
// deadline counts from a base less than a second older: a move after a longer stall is written at once.
const defaultStatusSpacing = time.Second

// writeStatus writes the planned status through the status subresource, only when it differs from the stored one,
// and updates the set's metrics. A change that moves only progress (onlyProgress) is held back, if mayHold, while
// the set's last write is less than statusSpacer's spacing old: due is then when it may go, and the caller asks for
// a pass by then.
// A write that completes a rollout records its duration: "complete" is the Ready condition's judgement
// (metrics.RolloutCompleted), which is never held back, and the start is read from the update revision
// (rolloutStart), so a rollout that spans a restart or a leader failover is measured once and from its real start.
func (r *NodeAgentSetReconciler) writeStatus(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, planned v1alpha1.NodeAgentSetStatus, mayHold bool) (due time.Duration, err error) {
	next := planned
	next.Conditions = mergeConditions(set.Status.Conditions, planned.Conditions)
	if equality.Semantic.DeepEqual(set.Status, next) {
		metrics.RecordStatus(set)
		return 0, nil
	}
	key := types.NamespacedName{Namespace: set.Namespace, Name: set.Name}
	if wait := r.statusSpacer.delay(key); mayHold && wait > 0 && onlyProgress(set.Status, next, r.statusSpacer.spacing) {
		// The metrics describe what this pass observed, as they would after the write.
		observed := *set
		observed.Status = next
		metrics.RecordStatus(&observed)
		return wait, nil
	}
	updated := set.DeepCopy()
	updated.Status = next
	if err := r.client.Status().Update(ctx, updated); err != nil {
		return 0, err
	}
	r.statusSpacer.mark(key)
	metrics.RecordStatus(updated)
	if start, ok := rolloutStart(update); ok && metrics.RolloutCompleted(set.Status, next) {
		metrics.ObserveRolloutDuration(set.Namespace, set.Name, r.clock.Now().Sub(start).Seconds())
	}
	return 0, nil
}

// onlyProgress reports whether next differs from stored only in what a rollout's progress moves: the pod counts,
// the messages of conditions whose type, status, reason and observed generation stay (but a Stalled=True one's,
// where a refused create is kept), the overrides' node counts, and a progress deadline base that moves forward by
// less than maxBaseMove while one is set. Everything else, the canary's status among it (its phase and message are the
// planner's state), is a change a reader or the next pass may act on, written at once.
func onlyProgress(stored, next v1alpha1.NodeAgentSetStatus, maxBaseMove time.Duration) bool {
	if a, b := stored.ProgressDeadlineBase, next.ProgressDeadlineBase; a != nil && b != nil {
		if move := b.Sub(a.Time); move < 0 || move >= maxBaseMove {
			return false
		}
	}
	return equality.Semantic.DeepEqual(withoutProgress(stored), withoutProgress(next))
}

// withoutProgress is st with the fields onlyProgress lets move cleared, sharing nothing st's caller could see
// changed.
func withoutProgress(st v1alpha1.NodeAgentSetStatus) v1alpha1.NodeAgentSetStatus {
	st.CurrentNumberScheduled, st.NumberMisscheduled, st.DesiredNumberScheduled, st.NumberReady = 0, 0, 0, 0
	st.UpdatedNumberScheduled, st.NumberAvailable, st.NumberUnavailable = 0, 0, 0
	if st.ProgressDeadlineBase != nil {
		st.ProgressDeadlineBase = &metav1.Time{}
	}
	if len(st.Conditions) > 0 {
		conditions := make([]metav1.Condition, len(st.Conditions))
		for i, c := range st.Conditions {
			if c.Type != v1alpha1.ConditionStalled || c.Status != metav1.ConditionTrue {
				c.Message = ""
			}
			conditions[i] = c
		}
		st.Conditions = conditions
	}
	if len(st.NodeOverrides) > 0 {
		overrides := make([]v1alpha1.NodeOverrideStatus, len(st.NodeOverrides))
		for i, o := range st.NodeOverrides {
			o.Nodes, o.UpdatedNodes = 0, 0
			overrides[i] = o
		}
		st.NodeOverrides = overrides
	}
	return st
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

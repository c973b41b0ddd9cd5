package planner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// status rebuilds the set's status from the snapshot alone, with the upstream DaemonSet controller's counting: per
// node that should run the pod, its oldest pod (terminating ones included) decides ready, available and updated.
func (d *decision) status() v1alpha1.NodeAgentSetStatus {
	var st v1alpha1.NodeAgentSetStatus
	for _, n := range d.nodes {
		scheduled := len(n.pods) > 0
		if !n.shouldRun {
			if scheduled {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if !scheduled {
			continue
		}
		st.CurrentNumberScheduled++
		oldest := n.pods[0]
		if placement.IsPodReady(oldest) {
			st.NumberReady++
			if d.isAvailable(oldest) {
				st.NumberAvailable++
			}
		}
		if d.isUpdated(oldest) {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable

	// observedGeneration rises only in a pass that may act, so a reader knows the spec it sees has been acted on.
	st.ObservedGeneration = d.set.Status.ObservedGeneration
	if d.snap.ExpectationsSatisfied {
		st.ObservedGeneration = d.set.Generation
	}
	if d.set.Status.CollisionCount != nil {
		st.CollisionCount = new(int32)
		*st.CollisionCount = *d.set.Status.CollisionCount
	}
	if d.snap.UpdateRevision != nil {
		st.UpdateRevision = d.snap.UpdateRevision.Name
	}
	st.CurrentRevision = d.currentRevision()
	st.NodeOverrides = d.nodeOverrideStatus()
	st.Conditions = d.conditions(st)
	return st
}

// nodeOverrideStatus counts, per spec.nodeOverrides entry in spec order, the eligible nodes it applies to and how
// many of them run an updated pod (their oldest pod, as for updatedNumberScheduled).
func (d *decision) nodeOverrideStatus() []v1alpha1.NodeOverrideStatus {
	if len(d.set.Spec.NodeOverrides) == 0 {
		return nil
	}
	out := make([]v1alpha1.NodeOverrideStatus, len(d.set.Spec.NodeOverrides))
	index := make(map[string]int, len(out))
	for i, o := range d.set.Spec.NodeOverrides {
		out[i].Name = o.Name
		index[o.Name] = i
	}
	for _, n := range d.nodes {
		if !n.shouldRun || n.override == nil {
			continue
		}
		i := index[n.override.Name]
		out[i].Nodes++
		if len(n.pods) > 0 && d.isUpdated(n.pods[0]) {
			out[i].UpdatedNodes++
		}
	}
	return out
}

// currentRevision is the update revision once every live or failed (not terminating) pod runs it. Before that, it is
// the known revision that most of the old pods run; on a tie the more recent revision (higher number, then name)
// wins, since an interrupted rollout was heading there. It is empty when no old pod's revision is known (for
// example adopted pods without the hash label).
func (d *decision) currentRevision() string {
	update := ""
	if d.snap.UpdateRevision != nil {
		update = d.snap.UpdateRevision.Name
	}
	oldByHash := map[string]int{}
	for _, n := range d.nodes {
		for _, pod := range n.pods {
			if !isTerminating(pod) && !d.isUpdated(pod) {
				oldByHash[pod.Labels[v1alpha1.ControllerRevisionHashLabel]]++
			}
		}
	}
	if len(oldByHash) == 0 {
		return update
	}
	best, bestPods, bestNumber := "", 0, int64(0)
	for _, rev := range d.snap.Revisions {
		if rev == nil {
			continue
		}
		pods := oldByHash[revisionHash(rev)]
		if pods == 0 || revisionHash(rev) == "" {
			continue
		}
		better := pods > bestPods ||
			(pods == bestPods && rev.Revision > bestNumber) ||
			(pods == bestPods && rev.Revision == bestNumber && rev.Name > best)
		if better {
			best, bestPods, bestNumber = rev.Name, pods, rev.Revision
		}
	}
	return best
}

// rolloutView summarizes the eligible nodes for the conditions.
type rolloutView struct {
	desired   int
	done      int // the node's only pod is a live, available pod of the update revision
	available int // the node has a live available pod of any revision
	old       int // the node has a live pod of an older revision
}

func (d *decision) rolloutView() rolloutView {
	v := rolloutView{desired: d.desired}
	for _, n := range d.nodes {
		if !n.shouldRun {
			continue
		}
		hasOld, hasAvailable := false, false
		for _, pod := range n.pods {
			if !isLive(pod) {
				continue
			}
			if !d.isUpdated(pod) {
				hasOld = true
			}
			if d.isAvailable(pod) {
				hasAvailable = true
			}
		}
		if hasOld {
			v.old++
		}
		if hasAvailable {
			v.available++
		}
		if len(n.pods) == 1 && isLive(n.pods[0]) && d.isUpdated(n.pods[0]) && d.isAvailable(n.pods[0]) {
			v.done++
		}
	}
	return v
}

// conditions are Ready, Progressing, Reconciling and Stalled, in that order (see v1alpha1.Condition*).
func (d *decision) conditions(st v1alpha1.NodeAgentSetStatus) []metav1.Condition {
	v := d.rolloutView()
	rev := st.UpdateRevision
	counts := fmt.Sprintf("%d of %d eligible nodes run an available pod of revision %s, %d available in all, %d still on an older revision",
		v.done, v.desired, rev, v.available, v.old)

	type verdict struct {
		status corev1.ConditionStatus
		reason string
	}
	var ready, progressing, reconciling verdict
	var message string
	onDelete := d.set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType
	allAvailable := v.available == v.desired
	switch {
	case st.ObservedGeneration != d.set.Generation:
		message = fmt.Sprintf("generation %d is not observed yet (observed %d): %s", d.set.Generation, st.ObservedGeneration, counts)
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonGenerationNotObserved}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonGenerationNotObserved}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonGenerationNotObserved}
	case v.done == v.desired:
		message = "rollout complete: " + counts
		ready = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutComplete}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutComplete}
		reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutComplete}
	case v.old > 0 && onDelete:
		message = "waiting for old pods to be deleted (updateStrategy OnDelete): " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonOnDelete}
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonOnDelete}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonOnDelete}
	case v.old > 0 && d.strategy.paused:
		message = "rollout paused: " + counts
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
		if allAvailable {
			ready = verdict{corev1.ConditionTrue, v1alpha1.ReasonPartitioned}
			reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
		} else {
			ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
			reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused}
		}
	case v.old > 0 && d.strategy.invalid == "" && v.old <= d.strategy.partition:
		// Every old pod left is one the partition keeps.
		if allAvailable && v.done+v.old == v.desired {
			message = fmt.Sprintf("partitioned rollout complete, partition %d keeps the old revision: %s", d.strategy.partition, counts)
			ready = verdict{corev1.ConditionTrue, v1alpha1.ReasonPartitioned}
			progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonPartitioned}
			reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonPartitioned}
		} else {
			message = fmt.Sprintf("waiting for pods to become available, partition %d keeps the old revision: %s", d.strategy.partition, counts)
			ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonPodsUnavailable}
			progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonRollingUpdate}
			reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonPodsUnavailable}
		}
	case v.old > 0:
		message = "rolling update in progress: " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonRollingUpdate}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonRollingUpdate}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonRollingUpdate}
	default:
		message = "waiting for pods to become available: " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonPodsUnavailable}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonPodsUnavailable}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonPodsUnavailable}
	}

	stalledStatus, stalledReason, stalledMessage := d.stalled()
	if stalledStatus == corev1.ConditionFalse {
		stalledReason, stalledMessage = reconciling.reason, "no blocking problem: "+message
	} else if reconciling.status == corev1.ConditionTrue {
		// kstatus reads Reconciling before Stalled: a set that cannot progress without help must not also say it is
		// still working, or Flux, Argo CD and kubectl wait would keep waiting instead of reporting the failure.
		reconciling = verdict{corev1.ConditionFalse, stalledReason}
	}

	cond := func(typ string, s corev1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{
			Type:               typ,
			Status:             metav1.ConditionStatus(s),
			ObservedGeneration: d.set.Generation,
			LastTransitionTime: metav1.NewTime(d.now),
			Reason:             reason,
			Message:            msg,
		}
	}
	return []metav1.Condition{
		cond(v1alpha1.ConditionReady, ready.status, ready.reason, message),
		cond(v1alpha1.ConditionProgressing, progressing.status, progressing.reason, message),
		cond(v1alpha1.ConditionReconciling, reconciling.status, reconciling.reason, message),
		cond(v1alpha1.ConditionStalled, stalledStatus, stalledReason, stalledMessage),
	}
}

// stalled reports a problem the controller cannot solve by itself, the most fundamental first.
func (d *decision) stalled() (corev1.ConditionStatus, string, string) {
	if d.strategy.invalid != "" {
		return corev1.ConditionTrue, v1alpha1.ReasonInvalidUpdateStrategy, d.strategy.invalid
	}
	if d.selectorMismatch != "" {
		return corev1.ConditionTrue, v1alpha1.ReasonSelectorMismatch, d.selectorMismatch
	}
	if d.snap.CreateFailure != "" && d.someEligibleNodeLacksPod() {
		// A refused create matters only while a node still waits for its pod; once none does (the node went, or a
		// later create went through) the failure is history, not a reason to call the set failed.
		return corev1.ConditionTrue, v1alpha1.ReasonCreateFailed, "creating pods failed: " + d.snap.CreateFailure
	}
	var failing []string
	for _, n := range d.nodes {
		if n.failedInBackoff {
			failing = append(failing, n.name())
		}
	}
	if len(failing) > 0 {
		return corev1.ConditionTrue, v1alpha1.ReasonPodsFailing, fmt.Sprintf(
			"pods failed on %d node(s) and are recreated with backoff: %s", len(failing), listSome(failing))
	}
	var unschedulable []string
	for _, n := range d.nodes {
		for _, pod := range n.pods {
			if !isLive(pod) {
				continue
			}
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					unschedulable = append(unschedulable, fmt.Sprintf("%s on node %s (%s)", pod.Name, n.name(), c.Message))
				}
			}
		}
	}
	if len(unschedulable) > 0 {
		return corev1.ConditionTrue, v1alpha1.ReasonPodsUnschedulable, fmt.Sprintf(
			"%d pod(s) cannot be scheduled on their node: %s", len(unschedulable), listSome(unschedulable))
	}
	return corev1.ConditionFalse, "", ""
}

// someEligibleNodeLacksPod reports whether a node that should run the set's pod has none at all.
func (d *decision) someEligibleNodeLacksPod() bool {
	for _, n := range d.nodes {
		if n.shouldRun && len(n.pods) == 0 {
			return true
		}
	}
	return false
}

// listSome joins up to five items, saying how many more there are.
func listSome(items []string) string {
	sort.Strings(items)
	if len(items) <= 5 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:5], ", "), len(items)-5)
}

// requeueAfter is the soonest moment the plan changes without any event: a ready pod reaching minReadySeconds, or
// a node's failed-pod backoff running out.
func (d *decision) requeueAfter() time.Duration {
	var soonest time.Duration
	consider := func(wait time.Duration) {
		if wait > 0 && (soonest == 0 || wait < soonest) {
			soonest = wait
		}
	}
	for _, wait := range d.backoffWaits {
		consider(wait)
	}
	if minReady := d.set.Spec.MinReadySeconds; minReady > 0 {
		for _, n := range d.nodes {
			for _, pod := range n.pods {
				if at, ok := placement.AvailableAt(pod, minReady); ok && !isTerminating(pod) {
					consider(at.Sub(d.now))
				}
			}
		}
	}
	return soonest
}

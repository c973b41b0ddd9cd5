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
	st.Canary = d.canaryStatus()
	st.NodeOverrides = d.nodeOverrideStatus()
	st.Conditions, st.ProgressDeadlineBase = d.conditions(st)
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

// conditions are Ready, Progressing, Reconciling and Stalled, in that order (see v1alpha1.Condition*), and the
// progress deadline's base for status.progressDeadlineBase.
func (d *decision) conditions(st v1alpha1.NodeAgentSetStatus) ([]metav1.Condition, *metav1.Time) {
	v := d.rolloutView()
	rev := st.UpdateRevision
	counts := fmt.Sprintf("%d of %d eligible nodes run an available pod of revision %s, %d available in all, %d still on an older revision",
		v.done, v.desired, rev, v.available, v.old)
	if failures := d.updateRevisionFailures(); len(failures) > 0 {
		counts += "; " + describeFailures(rev, failures)
	}

	type verdict struct {
		status corev1.ConditionStatus
		reason string
	}
	var ready, progressing, reconciling verdict
	var message string
	onDelete := d.set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType
	allAvailable := v.available == v.desired
	// holds: the rollout waits on purpose (or is done), so the progress deadline does not run; observing: the
	// controller has not acted on the spec yet, so the deadline neither starts nor fires.
	holds, observing := false, false
	canary := d.canary
	canaryPhase := v1alpha1.CanaryPhase("")
	if canary != nil {
		canaryPhase = canary.phase
	}
	switch {
	case st.ObservedGeneration != d.set.Generation:
		observing = true
		message = fmt.Sprintf("generation %d is not observed yet (observed %d): %s", d.set.Generation, st.ObservedGeneration, counts)
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonGenerationNotObserved}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonGenerationNotObserved}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonGenerationNotObserved}
	case v.done == v.desired:
		holds = true
		message = "rollout complete: " + counts
		ready = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutComplete}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutComplete}
		reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutComplete}
	case v.old > 0 && canaryPhase == v1alpha1.CanaryPhaseFailed:
		holds = true
		message = "canary failed: " + canary.message + ": " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryFailed}
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryFailed}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonCanaryFailed}
	case v.old > 0 && canary.noNodes():
		holds = true
		message = canary.message + ": " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryNoNodes}
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryNoNodes}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonCanaryNoNodes}
	case v.old > 0 && onDelete:
		message = "waiting for old pods to be deleted (updateStrategy OnDelete): " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonOnDelete}
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonOnDelete}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonOnDelete}
		holds = true
	case v.old > 0 && d.strategy.paused:
		holds = true
		message = "rollout paused: " + counts
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
		if allAvailable {
			ready = verdict{corev1.ConditionTrue, v1alpha1.ReasonPartitioned}
			reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
		} else {
			ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonRolloutPaused}
			reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonRolloutPaused}
		}
	case v.old > 0 && canaryPhase == v1alpha1.CanaryPhaseWaitingForPromotion:
		holds = true
		message = "canary waiting for promotion: " + canary.message + ": " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryWaitingForPromotion}
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryWaitingForPromotion}
		reconciling = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryWaitingForPromotion}
	case v.old > 0 && canaryPhase == v1alpha1.CanaryPhaseRunning:
		// Once every canary pod is available the canary waits only for its duration: that is not a stuck rollout.
		holds = canary.validating
		message = "canary running: " + canary.message + ": " + counts
		ready = verdict{corev1.ConditionFalse, v1alpha1.ReasonCanaryRunning}
		progressing = verdict{corev1.ConditionTrue, v1alpha1.ReasonCanaryRunning}
		reconciling = verdict{corev1.ConditionTrue, v1alpha1.ReasonCanaryRunning}
	case v.old > 0 && d.strategy.invalid == "" && v.old <= d.strategy.partition:
		// Every old pod left is one the partition keeps.
		if allAvailable && v.done+v.old == v.desired {
			holds = true
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

	base, exceeded := d.progressDeadline(st, holds, observing)
	if exceeded {
		message = fmt.Sprintf("rollout made no progress for %ds (progressDeadlineSeconds): %s", d.progressDeadlineSeconds(), message)
		progressing = verdict{corev1.ConditionFalse, v1alpha1.ReasonProgressDeadlineExceeded}
	}

	stalledStatus, stalledReason, stalledMessage := d.stalled(exceeded, message)
	if stalledStatus == corev1.ConditionFalse {
		stalledReason, stalledMessage = reconciling.reason, "no blocking problem: "+message
	} else if reconciling.status == corev1.ConditionTrue {
		// kstatus reads Reconciling before Stalled: a set that cannot progress without help must not also say it is
		// still working, or Flux, Argo CD and kubectl wait would keep waiting instead of reporting the failure.
		reconciling = verdict{corev1.ConditionFalse, stalledReason}
	}

	cond := func(typ string, s corev1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{
			Type:   typ,
			Status: metav1.ConditionStatus(s),
			// The generation the condition describes: the one this pass judged, which is the set's generation only
			// once it has been acted on. Never newer than status.observedGeneration, or a kstatus reader would take
			// a verdict on an older spec for one on the current spec.
			ObservedGeneration: st.ObservedGeneration,
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
	}, base
}

// progressDeadlineSeconds is spec.progressDeadlineSeconds, or its default when the webhook did not fill it.
func (d *decision) progressDeadlineSeconds() int32 {
	if p := d.set.Spec.ProgressDeadlineSeconds; p != nil {
		return *p
	}
	return v1alpha1.DefaultProgressDeadline(d.set.Spec.MinReadySeconds)
}

// progressDeadline moves the deadline's base and says whether the deadline passed. The base is stored in the status,
// so the deadline survives controller restarts: it is cleared while the rollout holds (complete, paused,
// partitioned, waiting for a promotion, a failed canary), set to now when a rollout (a node still running an old
// revision) starts or resumes, and moved to
// the moment a pod of the update revision last became available. It changes only on those events, not every pass.
func (d *decision) progressDeadline(st v1alpha1.NodeAgentSetStatus, holds, observing bool) (*metav1.Time, bool) {
	stored := d.set.Status.ProgressDeadlineBase
	if d.set.Status.UpdateRevision != st.UpdateRevision {
		stored = nil // a new rollout
	}
	if observing {
		return stored, false
	}
	if holds {
		return nil, false
	}
	if stored == nil && !d.someEligibleNodeRunsOld() {
		// Not a rollout: a complete set that later lost a pod, or a new set getting its first pods. As for a
		// Deployment, the deadline runs only for a rollout, from when old pods remain until the new ones are
		// available.
		return nil, false
	}
	base := metav1.NewTime(d.now)
	if stored != nil {
		base = *stored
		if latest, ok := d.latestProgress(); ok && latest.After(base.Time) {
			base = metav1.NewTime(latest)
		}
	}
	deadline := base.Add(time.Duration(d.progressDeadlineSeconds()) * time.Second)
	if !d.now.Before(deadline) {
		return &base, true
	}
	d.deadlineIn = deadline.Sub(d.now)
	return &base, false
}

// latestProgress is when a live pod of the update revision on an eligible node last became available (up to now).
func (d *decision) latestProgress() (time.Time, bool) {
	var latest time.Time
	found := false
	for _, n := range d.nodes {
		if !n.shouldRun {
			continue
		}
		for _, pod := range n.pods {
			if !isLive(pod) || !d.isUpdated(pod) {
				continue
			}
			if at, ok := d.availableSince(pod); ok && (!found || at.After(latest)) {
				latest, found = at, true
			}
		}
	}
	return latest, found
}

// stalled reports a problem the controller cannot solve by itself, the most fundamental first.
func (d *decision) stalled(deadlineExceeded bool, message string) (corev1.ConditionStatus, string, string) {
	if d.invalidSelector != "" {
		return corev1.ConditionTrue, v1alpha1.ReasonInvalidSelector, d.invalidSelector
	}
	if d.strategy.invalid != "" {
		return corev1.ConditionTrue, v1alpha1.ReasonInvalidUpdateStrategy, d.strategy.invalid
	}
	if d.selectorMismatch != "" {
		return corev1.ConditionTrue, v1alpha1.ReasonSelectorMismatch, d.selectorMismatch
	}
	if c := d.canary; c != nil && c.phase == v1alpha1.CanaryPhaseFailed && d.someEligibleNodeRunsOld() {
		return corev1.ConditionTrue, v1alpha1.ReasonCanaryFailed, "canary failed: " + c.message
	}
	if c := d.canary; c.noNodes() && d.someEligibleNodeRunsOld() {
		return corev1.ConditionTrue, v1alpha1.ReasonCanaryNoNodes, c.message
	}
	if deadlineExceeded {
		return corev1.ConditionTrue, v1alpha1.ReasonProgressDeadlineExceeded, message
	}
	if d.snap.CreateFailure != "" && d.someEligibleNodeLacksPod() {
		// A refused create matters only while a node still waits for its pod; once none does (the node went, or a
		// later create went through) the failure is history, not a reason to call the set failed.
		return corev1.ConditionTrue, v1alpha1.ReasonCreateFailed, createFailedPrefix + d.snap.CreateFailure
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

// createFailedPrefix starts the Stalled message of a refused create; the rest is the API server's refusal.
const createFailedPrefix = "creating pods failed: "

// StoredCreateFailure is the refused create that the stored status reports (Stalled=True, reason CreateFailed), or
// empty. The stored status is where the failure lives between passes, so a restarted manager or a new leader goes
// on reporting it instead of calling the set healthy until its own creates fail.
func StoredCreateFailure(status v1alpha1.NodeAgentSetStatus) string {
	for _, c := range status.Conditions {
		if c.Type == v1alpha1.ConditionStalled && c.Status == metav1.ConditionTrue && c.Reason == v1alpha1.ReasonCreateFailed {
			return strings.TrimPrefix(c.Message, createFailedPrefix)
		}
	}
	return ""
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
	consider(d.deadlineIn)
	if d.canary != nil && d.canary.validating {
		consider(d.canary.passIn)
	}
	// Availability depends on time only with minReadySeconds (AvailableAt says so); a ready time in the future (a
	// kubelet clock ahead of this one) is looked ahead to as well, so no rollout waits for an unrelated event.
	for _, n := range d.nodes {
		for _, pod := range n.pods {
			if at, ok := placement.AvailableAt(pod, d.set.Spec.MinReadySeconds); ok && !isTerminating(pod) {
				consider(at.Sub(d.now))
			}
		}
	}
	return soonest
}

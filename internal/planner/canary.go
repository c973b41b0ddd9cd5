package planner

// The canary phase of a rolling update and the failure reasons of pods of the update revision.
//
// Assumptions (in addition to the rolling update's, see rollout.go):
//   - Everything the canary depends on is in the snapshot: its phase and start are in the stored status.canary (for
//     the update revision; a canary stored for another revision is over), restarts, waiting reasons, termination
//     reasons and scheduling failures in the pods' status, the promotion in the set's annotations. A controller
//     restart resumes the canary where it stood.
//   - The canary exists only while a rolling update has work to do when it starts: a canary starts for a new update
//     revision when some eligible node runs a live pod of another revision. A new set, or a revision every node
//     already runs, has no canary.
//   - Restarts are a pod's restartCount (init and regular containers): a pod of the update revision is created for
//     it, so its restarts all happened while it ran the update revision.
//   - The revision the other nodes run (stable) is status.currentRevision as this pass computes it: the revision most
//     old pods run. Without one (no old pod's revision is known), new pods get the update revision.
//
// Invariants:
//   - Containment: until the canary passed, the rolling update replaces pods only on canary nodes, and a node
//     without a pod that is not a canary node gets a pod of the stable revision; so no non-canary node starts the
//     update revision. Failed and Passed hold until the update revision changes (a failed, paused canary also
//     passes when the promote annotation names the update revision).
//   - Canary nodes are the eligible nodes matching nodeSelector, those already running the update revision first,
//     then in node-name order, up to replicas; the choice is stable while the nodes do not change.
//   - The canary passes when every canary node runs a live pod of the update revision that has been available for
//     duration since its last container termination, and no canary pod shows a failure; it fails when a canary
//     pod restarted maxRestarts times (at least once) or shows a failure reason.
//   - Abort puts the canary nodes back on the stable revision within the budgets: a canary pod of the update
//     revision that is not available is deleted at once, an available one only while fewer nodes than
//     max(maxUnavailable, 1) lack an available pod (with maxSurge, one node at a time: a pod of the stable revision
//     cannot surge beside it, as it is the older revision); manage() then creates the stable pod.

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// Waiting reasons that fail a canary: the container cannot start, or keeps crashing.
var failingWaitingReasons = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"InvalidImageName":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
}

// reasonOOMKilled is the termination reason of a container the kernel killed for memory.
const reasonOOMKilled = "OOMKilled"

// canaryState is the canary of the update revision as this pass judges it.
type canaryState struct {
	phase     v1alpha1.CanaryPhase
	startedAt metav1.Time
	message   string
	// nodes are the canary nodes by name.
	nodes map[string]bool
	// stable is the revision the other nodes run; nil when unknown or the update revision itself.
	stable *appsv1.ControllerRevision
	abort  bool
	// validating: every canary pod is available and the canary waits only for its duration.
	validating bool
	// passIn is how long until a validating canary passes, if nothing changes.
	passIn time.Duration
}

// gates reports whether the canary still holds the update revision to the canary nodes.
func (c *canaryState) gates() bool { return c != nil && c.phase != v1alpha1.CanaryPhasePassed }

func (c *canaryState) noNodes() bool {
	return c != nil && c.phase == v1alpha1.CanaryPhaseRunning && len(c.nodes) == 0
}

// resolvedCanary is the canary spec with its defaults applied (the controller works without the webhook too).
type resolvedCanary struct {
	selector    labels.Selector
	replicas    *intstr.IntOrString
	duration    time.Duration
	manual      bool
	maxRestarts int32
	abort       bool
}

func resolveCanarySpec(spec *v1alpha1.NodeAgentSetCanary) (resolvedCanary, error) {
	r := resolvedCanary{selector: labels.Everything(), replicas: spec.Replicas, maxRestarts: v1alpha1.DefaultCanaryMaxRestarts}
	if spec.NodeSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(spec.NodeSelector)
		if err != nil {
			return r, fmt.Errorf("spec.updateStrategy.rollingUpdate.canary.nodeSelector: invalid value: %v", err)
		}
		r.selector = sel
		if r.replicas == nil {
			all := intstr.FromString("100%")
			r.replicas = &all
		}
	}
	if r.replicas == nil {
		one := intstr.FromInt32(1)
		r.replicas = &one
	}
	if spec.Duration != nil {
		r.duration = max(0, spec.Duration.Duration)
	}
	r.manual = spec.Promotion == v1alpha1.CanaryPromotionManual
	if spec.MaxRestarts != nil {
		r.maxRestarts = *spec.MaxRestarts
	}
	r.abort = spec.OnFailure == v1alpha1.CanaryFailureAbort
	return r, nil
}

// resolveCanary judges the canary of the update revision; nil when the set has none. An invalid canary spec makes
// the strategy invalid, so the rolling update waits for a fix.
func (d *decision) resolveCanary() *canaryState {
	ru := d.set.Spec.UpdateStrategy.RollingUpdate
	if !d.strategy.rollingUpdate || d.strategy.invalid != "" || ru == nil || ru.Canary == nil || d.snap.UpdateRevision == nil {
		return nil
	}
	spec, err := resolveCanarySpec(ru.Canary)
	if err != nil {
		d.strategy.invalid = err.Error()
		return nil
	}
	replicas, err := scaled(spec.replicas, d.desired, "canary.replicas")
	if err != nil {
		d.strategy.invalid = err.Error()
		return nil
	}

	c := &canaryState{abort: spec.abort, nodes: map[string]bool{}}
	update := d.snap.UpdateRevision.Name
	if stored := d.set.Status.Canary; stored != nil && stored.Revision == update {
		c.phase, c.startedAt, c.message = stored.Phase, stored.StartedAt, stored.Message
	} else {
		if !d.someEligibleNodeRunsOld() {
			return nil
		}
		c.phase, c.startedAt = v1alpha1.CanaryPhaseRunning, metav1.NewTime(d.now)
	}
	c.stable = d.stableRevision()
	d.pickCanaryNodes(c, spec.selector, replicas)

	promoted := d.set.Annotations[v1alpha1.PromoteRevisionAnnotation] == update
	switch c.phase {
	case v1alpha1.CanaryPhaseRunning:
		d.evaluateCanary(c, spec)
		if c.phase == v1alpha1.CanaryPhasePassed && spec.manual && !promoted {
			c.phase = v1alpha1.CanaryPhaseWaitingForPromotion
			c.message = fmt.Sprintf("canary passed on %d node(s); waiting for the annotation %s=%s (kubectl nas rollout promote)",
				len(c.nodes), v1alpha1.PromoteRevisionAnnotation, update)
		}
	case v1alpha1.CanaryPhaseWaitingForPromotion:
		if promoted {
			c.phase, c.message = v1alpha1.CanaryPhasePassed, fmt.Sprintf("canary promoted by the annotation %s", v1alpha1.PromoteRevisionAnnotation)
		}
	case v1alpha1.CanaryPhaseFailed:
		if promoted && !spec.abort {
			c.phase, c.message = v1alpha1.CanaryPhasePassed, fmt.Sprintf("canary failure overridden by the annotation %s: %s",
				v1alpha1.PromoteRevisionAnnotation, c.message)
		}
	case v1alpha1.CanaryPhasePassed:
	default:
		// A phase this controller does not write: start over.
		c.phase, c.startedAt = v1alpha1.CanaryPhaseRunning, metav1.NewTime(d.now)
		d.evaluateCanary(c, spec)
	}
	return c
}

// someEligibleNodeRunsOld reports whether an eligible node runs a live pod of a revision other than the update one.
func (d *decision) someEligibleNodeRunsOld() bool {
	for _, st := range d.nodes {
		if !st.shouldRun {
			continue
		}
		for _, pod := range st.pods {
			if isLive(pod) && !d.isUpdated(pod) {
				return true
			}
		}
	}
	return false
}

// stableRevision is the revision the other nodes run, nil when it is unknown or is the update revision.
func (d *decision) stableRevision() *appsv1.ControllerRevision {
	name := d.currentRevision()
	if name == "" || name == d.snap.UpdateRevision.Name {
		return nil
	}
	for _, rev := range d.snap.Revisions {
		if rev != nil && rev.Name == name {
			return rev
		}
	}
	return nil
}

// pickCanaryNodes chooses up to replicas eligible nodes matching the selector: nodes already running a live pod of
// the update revision first, then the rest, each group in node-name order.
func (d *decision) pickCanaryNodes(c *canaryState, selector labels.Selector, replicas int) {
	var running, others []*nodeState
	for _, st := range d.nodes {
		if !st.shouldRun || !selector.Matches(labels.Set(st.node.Labels)) {
			continue
		}
		if newPod, _, _ := d.newAndOld(st); newPod != nil {
			running = append(running, st)
		} else {
			others = append(others, st)
		}
	}
	for _, st := range append(running, others...) {
		if len(c.nodes) >= replicas {
			break
		}
		c.nodes[st.name()] = true
	}
}

// evaluateCanary decides whether a running canary failed, passed or goes on, and when it would pass.
func (d *decision) evaluateCanary(c *canaryState, spec resolvedCanary) {
	if len(c.nodes) == 0 {
		c.message = "no eligible node matches the canary; nothing is updated"
		return
	}
	threshold := max(1, spec.maxRestarts)
	var failures []podFailure
	allAvailable := true
	var latestPass time.Time
	for _, st := range d.nodes {
		if !c.nodes[st.name()] {
			continue
		}
		var newPod *corev1.Pod
		for _, pod := range st.pods {
			if isLive(pod) && d.isUpdated(pod) {
				if f, ok := podFailureOf(pod); ok {
					failures = append(failures, podFailure{reason: f, node: st.name()})
				} else if restarts := restartCount(pod); restarts >= threshold {
					failures = append(failures, podFailure{reason: fmt.Sprintf("restarted %d times", restarts), node: st.name()})
				}
				if newPod == nil {
					newPod = pod
				}
			}
		}
		if newPod == nil {
			allAvailable = false
			continue
		}
		at, ok := d.availableSince(newPod)
		if !ok {
			allAvailable = false
			continue
		}
		if last := lastTermination(newPod); last.After(at) {
			at = last
		}
		if pass := at.Add(spec.duration); pass.After(latestPass) {
			latestPass = pass
		}
	}
	if len(failures) > 0 {
		c.phase = v1alpha1.CanaryPhaseFailed
		c.message = describeFailures(d.snap.UpdateRevision.Name, failures)
		return
	}
	if !allAvailable {
		c.message = fmt.Sprintf("updating %d canary node(s) to revision %s", len(c.nodes), d.snap.UpdateRevision.Name)
		return
	}
	if latestPass.After(d.now) {
		c.validating = true
		c.passIn = latestPass.Sub(d.now)
		c.message = fmt.Sprintf("every canary pod on %d node(s) is available; the canary passes at %s unless a container restarts",
			len(c.nodes), latestPass.UTC().Format(time.RFC3339))
		return
	}
	c.phase = v1alpha1.CanaryPhasePassed
	c.message = fmt.Sprintf("canary passed on %d node(s)", len(c.nodes))
}

// canaryAllowsUpdate reports whether the rolling update may move the node to the update revision.
func (d *decision) canaryAllowsUpdate(st *nodeState) bool {
	c := d.canary
	if !c.gates() {
		return true
	}
	return c.phase == v1alpha1.CanaryPhaseRunning && c.nodes[st.name()]
}

// revisionForNewPod is the revision a node without a pod gets: nil (the update revision) unless the canary still
// gates the update revision and the node is not a canary node, or the canary failed with Abort.
func (d *decision) revisionForNewPod(node string) *appsv1.ControllerRevision {
	c := d.canary
	if !c.gates() || c.stable == nil {
		return nil
	}
	if c.nodes[node] && !(c.phase == v1alpha1.CanaryPhaseFailed && c.abort) {
		return nil
	}
	return c.stable
}

// abortCanary deletes the update revision's pods on the canary nodes of a failed canary with onFailure Abort;
// manage() then gives those nodes pods of the stable revision.
func (d *decision) abortCanary() {
	c := d.canary
	if c == nil || c.phase != v1alpha1.CanaryPhaseFailed || !c.abort || c.stable == nil || d.strategy.paused {
		return
	}
	unavailable := 0
	for _, st := range d.inUpdateScope() {
		if !st.shouldRun {
			continue
		}
		available := false
		for _, pod := range st.pods {
			if isLive(pod) && d.isAvailable(pod) {
				available = true
			}
		}
		if !available {
			unavailable++
		}
	}
	remaining := max(d.strategy.maxUnavailable, 1) - unavailable
	for _, st := range d.nodes {
		if !c.nodes[st.name()] {
			continue
		}
		for _, pod := range st.pods {
			if !isLive(pod) || !d.isUpdated(pod) {
				continue
			}
			if d.isAvailable(pod) {
				if remaining <= 0 {
					continue
				}
				remaining--
			}
			d.delete(pod, DeleteCanaryAborted, fmt.Sprintf("the canary of revision %s failed and onFailure is Abort; "+
				"deleting pod %s/%s on node %s to put it back on revision %s", d.snap.UpdateRevision.Name,
				pod.Namespace, pod.Name, st.name(), c.stable.Name))
		}
	}
}

// canaryStatus is status.canary for this pass.
func (d *decision) canaryStatus() *v1alpha1.NodeAgentSetCanaryStatus {
	c := d.canary
	if c == nil {
		return nil
	}
	return &v1alpha1.NodeAgentSetCanaryStatus{
		Revision:  d.snap.UpdateRevision.Name,
		Nodes:     int32(len(c.nodes)),
		Phase:     c.phase,
		StartedAt: c.startedAt,
		Message:   c.message,
	}
}

// podFailure is one pod of the update revision that shows a failure reason.
type podFailure struct {
	reason string
	node   string
}

// podFailureOf is the first failure reason a pod shows: a container waiting for a failing reason, a container
// killed for memory, or the pod being unschedulable.
func podFailureOf(pod *corev1.Pod) (string, bool) {
	// Indexed, not ranged by value: a ContainerStatus is a few hundred bytes, and every pass asks this of every pod of
	// the update revision.
	groups := [2][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses}
	for _, statuses := range groups {
		for i := range statuses {
			if w := statuses[i].State.Waiting; w != nil && failingWaitingReasons[w.Reason] {
				return w.Reason, true
			}
		}
	}
	for _, statuses := range groups {
		for i := range statuses {
			cs := &statuses[i]
			if t := cs.State.Terminated; t != nil && t.Reason == reasonOOMKilled {
				return reasonOOMKilled, true
			}
			if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == reasonOOMKilled {
				return reasonOOMKilled, true
			}
		}
	}
	for i := range pod.Status.Conditions {
		cond := &pod.Status.Conditions[i]
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable {
			return corev1.PodReasonUnschedulable, true
		}
	}
	return "", false
}

func restartCount(pod *corev1.Pod) int32 {
	// A pod moved to the revision by an in-place image update restarted once for the update itself; that restart is
	// not the canary's failure.
	return placement.RestartsSinceRevision(pod)
}

// lastTermination is when a container of the pod last stopped, the zero time if none did.
func lastTermination(pod *corev1.Pod) time.Time {
	var last time.Time
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(last) {
			last = t.FinishedAt.Time
		}
	}
	return last
}

// updateRevisionFailures lists the failure reasons of the live pods of the update revision on eligible nodes.
func (d *decision) updateRevisionFailures() []podFailure {
	var out []podFailure
	for _, st := range d.nodes {
		if !st.shouldRun {
			continue
		}
		for _, pod := range st.pods {
			if isLive(pod) && d.isUpdated(pod) {
				if reason, ok := podFailureOf(pod); ok {
					out = append(out, podFailure{reason: reason, node: st.name()})
				}
			}
		}
	}
	return out
}

// maxNodesPerReason is how many nodes a failure message names per reason.
const maxNodesPerReason = 3

// describeFailures words failures as "2 pods of revision R: CrashLoopBackOff on node-3, node-7", grouped by reason
// in name order, with a few nodes per reason; the same failures always give the same text.
func describeFailures(revision string, failures []podFailure) string {
	byReason := map[string][]string{}
	for _, f := range failures {
		byReason[f.reason] = append(byReason[f.reason], f.node)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		nodes := byReason[r]
		sort.Strings(nodes)
		named := strings.Join(nodes[:min(len(nodes), maxNodesPerReason)], ", ")
		if len(nodes) > maxNodesPerReason {
			named += fmt.Sprintf(" and %d more", len(nodes)-maxNodesPerReason)
		}
		parts = append(parts, r+" on "+named)
	}
	noun := "pods"
	if len(failures) == 1 {
		noun = "pod"
	}
	return fmt.Sprintf("%d %s of revision %s: %s", len(failures), noun, revision, strings.Join(parts, "; "))
}

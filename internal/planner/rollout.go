package planner

// The rolling update: which old pods go (without surge) or which nodes get a new pod beside the old one (with
// surge), within maxUnavailable, maxSurge, partition and pause. It runs after manage() in the same pass and on the
// same snapshot; the two steps' actions are merged (a pod is deleted once, a node gets at most one create).
//
// Assumptions:
//   - manage() keeps at most one pod per node without surge, and at most one per revision with surge; a node with
//     more live pods than that is skipped here and counted as unavailable (without surge) or surging (with surge).
//   - manage() creates the pod on a node that has none, always of the update revision; so a node whose old pod is
//     deleted here gets its new pod on a later pass, once the deletion shows in the snapshot.
//   - manage() owns failed and succeeded pods (deleted after the node's backoff, then replaced). Only live pods
//     (neither terminating nor finished) are looked at here, so a node whose only pod failed counts as a node
//     without a pod; the update never bypasses the failed-pod backoff.
//   - Nodes whose pods may not stay (no longer matching, or an untolerated NoExecute taint) are left to manage(),
//     which deletes their pods; they are not eligible and count for nothing here. Nodes that may keep their pod but
//     take no new one (an untolerated NoSchedule taint added later) are handled as upstream does: without surge the
//     old pod is replaced like any other and none comes back; with surge it goes only while more pods are available
//     than desiredNumberScheduled. They do not count against the partition, since no new pod goes there.
//   - A terminating pod is not live: a node whose pod is being deleted counts as unavailable, so in-flight
//     deletions use up maxUnavailable until the new pod is available.
//   - With surge a node holds at most two pods, terminating ones included: no new pod starts beside an old one while
//     a third pod still terminates there (this is stricter than upstream, which ignores terminating pods here; it
//     matters after a template change mid-rollout, when a node can hold a terminating pod and a live old one).
//
// Invariants (without surge), for the nodes in scope:
//   - New deletions of available old pods are chosen so that the nodes without an available live pod, counted
//     before this pass's deletions, plus the deletions stay within maxUnavailable. Old pods that are already
//     unavailable (crash looping, not ready, pending) are replaced at once: deleting them makes nothing less available.
//   - An unavailable pod of the update revision counts against maxUnavailable, so a broken template stops the
//     rollout after maxUnavailable nodes; changing the template again continues it, since the broken pods are then
//     old and unavailable and are replaced at once.
//
// Invariants (with surge):
//   - A node with an unavailable old pod gets its new pod at once.
//   - A node whose new pod is available loses its old pod.
//   - Creates for nodes with an available old pod are chosen so that the nodes surging (a new pod not yet available,
//     or more live pods than one per revision), counted before this pass's creates, plus the creates stay within
//     maxSurge. Every eligible node keeps an available pod meanwhile, apart from pods that were already unavailable.
//
// Rollout controls (NodeAgentSet additions):
//   - paused: no update-driven delete or create at all. manage() still runs, so new nodes get pods and failed pods
//     are replaced (necessarily with the update revision). A new pod that already runs beside an old one with surge
//     still completes its replacement once available, as nothing new starts.
//   - partition P: at most desiredNumberScheduled-P eligible nodes run (or are about to run) a pod of the update
//     revision because of the update. Eligible nodes count as updated when they run a live pod of the update
//     revision or have no live old pod (they get, or are getting, a new pod anyway). Candidates are taken
//     unavailable-first, then by node name, so a broken old pod is the first to be replaced and, in a steady
//     cluster, the nodes that keep the old revision are the last P by name.
//   - OnDelete: nothing happens here; old pods stay until someone deletes them.
//   - canary: until the canary of the update revision passed, only canary nodes are candidates (both without and
//     with surge), within the same budgets; a failed canary with Abort deletes the canary nodes' pods of the update
//     revision first (unavailable ones at once, available ones within max(maxUnavailable, 1)), and manage() gives
//     non-canary nodes without a pod (and, after an Abort, canary nodes too) the stable revision. With no matching
//     node nothing is updated. The canary's own assumptions and invariants are in canary.go; the simulation checks
//     containment after every step.
//   - progress deadline: counted in status.go from status.progressDeadlineBase; it never changes a plan, only the
//     conditions.
//   - podUpdatePolicy InPlaceIfPossible (without surge): an old pod chosen for replacement whose revision's template
//     differs from the update revision's only in container images (and template labels and annotations) gets its
//     images and revision label patched instead of being deleted. It is then of the update revision and, until the
//     kubelet reports the changed containers restarted on the new images and the pod available again, counts
//     against maxUnavailable exactly as a deleted pod's node does (placement.AvailableAt says so). Anything else
//     about the pod, or a revision that cannot be read, falls back to recreating it.

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// updateCandidate is a node whose only live pod is old.
type updateCandidate struct {
	st          *nodeState
	old         *corev1.Pod
	unavailable bool
}

func (d *decision) rollingUpdate() {
	if !d.strategy.rollingUpdate || d.strategy.invalid != "" || d.canary.noNodes() {
		return
	}
	d.abortCanary()
	if d.strategy.maxSurge > 0 {
		d.surgeUpdate()
		return
	}
	d.unavailableUpdate()
}

// inUpdateScope lists the nodes the rolling update looks at: those whose pods may stay and that either should run
// a pod or still have one.
func (d *decision) inUpdateScope() []*nodeState {
	var out []*nodeState
	for _, st := range d.nodes {
		if st.shouldContinueRunning && (st.shouldRun || len(st.pods) > 0) {
			out = append(out, st)
		}
	}
	return out
}

// newAndOld finds the node's single live pod of the update revision and single live old pod; ok is false when there
// are more than one of either.
func (d *decision) newAndOld(st *nodeState) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, pod := range st.pods {
		if !isLive(pod) {
			continue
		}
		if d.isUpdated(pod) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = pod
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = pod
		}
	}
	return newPod, oldPod, true
}

// partitionBudget is how many more eligible nodes the update may move to the update revision.
func (d *decision) partitionBudget() int {
	updated := 0
	for _, st := range d.nodes {
		if st.shouldRun && d.countsAsUpdated(st) {
			updated++
		}
	}
	return max(0, d.desired-d.strategy.partition-updated)
}

// countsAsUpdated: the node runs a live pod of the update revision, or has no live old pod and so gets (or is
// getting) a pod of the update revision from manage().
func (d *decision) countsAsUpdated(st *nodeState) bool {
	hasOld := false
	for _, pod := range st.pods {
		if !isLive(pod) {
			continue
		}
		if d.isUpdated(pod) {
			return true
		}
		hasOld = true
	}
	return !hasOld
}

// orderCandidates puts unavailable old pods first, then node name order.
func orderCandidates(cands []updateCandidate) {
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].unavailable != cands[j].unavailable {
			return cands[i].unavailable
		}
		return cands[i].st.name() < cands[j].st.name()
	})
}

// unavailableUpdate deletes old pods, at most maxUnavailable nodes without an available pod at a time; manage()
// creates the replacements.
func (d *decision) unavailableUpdate() {
	numUnavailable := 0
	var cands []updateCandidate
	for _, st := range d.inUpdateScope() {
		newPod, oldPod, ok := d.newAndOld(st)
		switch {
		case !ok:
			numUnavailable++
		case newPod == nil && oldPod == nil, newPod != nil && oldPod != nil:
			// Nothing live yet, or a duplicate manage() resolves: unavailable for now.
			numUnavailable++
		case newPod != nil:
			if !d.isAvailable(newPod) {
				numUnavailable++
			}
		default:
			c := updateCandidate{st: st, old: oldPod, unavailable: !d.isAvailable(oldPod)}
			if c.unavailable {
				numUnavailable++
			}
			if d.canaryAllowsUpdate(st) {
				cands = append(cands, c)
			}
		}
	}
	if d.strategy.paused {
		return
	}

	orderCandidates(cands)
	remaining := d.strategy.maxUnavailable - numUnavailable
	budget := d.partitionBudget()
	for _, c := range cands {
		if c.st.shouldRun && budget <= 0 {
			continue
		}
		if !c.unavailable {
			if remaining <= 0 {
				continue
			}
			remaining--
		}
		if c.st.shouldRun {
			budget--
		}
		how := "is available; replacing it within maxUnavailable"
		if c.unavailable {
			how = "is not available; replacing it at once"
		}
		msg := fmt.Sprintf("pod %s/%s on node %s is of an old revision and %s", c.old.Namespace, c.old.Name, c.st.name(), how)
		if change, ok := d.inPlaceUpdate(c.st, c.old); ok {
			d.update(PodUpdate{Pod: c.old, Revision: d.snap.UpdateRevision, Images: change.images,
				Labels: change.labels, Annotations: change.annotations, Reason: UpdateInPlace,
				NodeOverride: placement.OverrideName(c.st.override), Message: msg + " in place: only container images differ"})
			continue
		}
		d.delete(c.old, DeleteRollingUpdate, msg)
	}
}

// surgeUpdate starts new pods beside old ones, at most maxSurge nodes at a time, and deletes an old pod once the new
// one beside it is available.
func (d *decision) surgeUpdate() {
	numSurge, numAvailable := 0, 0
	var cands []updateCandidate             // eligible nodes with only an old pod
	var unwantedAvailable []updateCandidate // old available pods on nodes that would not get a new pod
	var unwantedUnavailable []updateCandidate

	for _, st := range d.inUpdateScope() {
		newPod, oldPod, ok := d.newAndOld(st)
		if !ok {
			numSurge++
			continue
		}
		// Availability counts every node in scope, the ones being sunset included.
		switch {
		case oldPod != nil:
			if d.isAvailable(oldPod) {
				numAvailable++
			}
		case newPod != nil:
			if d.isAvailable(newPod) {
				numAvailable++
			}
		}

		switch {
		case oldPod == nil:
			// Up to date, or nothing live: manage() handles it.
		case newPod == nil:
			c := updateCandidate{st: st, old: oldPod, unavailable: !d.isAvailable(oldPod)}
			switch {
			case !st.shouldRun && c.unavailable:
				unwantedUnavailable = append(unwantedUnavailable, c)
			case !st.shouldRun:
				unwantedAvailable = append(unwantedAvailable, c)
			case len(st.pods) > 1:
				// A pod still terminating beside the old one: starting the new pod now would make three on the node.
				// It starts once the terminating pod is gone.
			case !d.canaryAllowsUpdate(st):
				// The canary holds the update revision to the canary nodes.
			default:
				cands = append(cands, c)
			}
		default:
			if !d.isAvailable(newPod) {
				numSurge++
				continue
			}
			d.delete(oldPod, DeleteSurgeReplaced, fmt.Sprintf("pod %s of the update revision is available on node %s; "+
				"deleting old pod %s/%s", newPod.Name, st.name(), oldPod.Namespace, oldPod.Name))
		}
	}
	if d.strategy.paused {
		return
	}

	for _, c := range unwantedUnavailable {
		d.delete(c.old, DeleteRollingUpdate, fmt.Sprintf("pod %s/%s on node %s is of an old revision, not available, "+
			"and the node no longer takes new pods", c.old.Namespace, c.old.Name, c.st.name()))
	}
	// With surge the owner expects full availability: a pod on a node that gets no replacement goes only while more
	// pods are available than nodes want one.
	for _, c := range unwantedAvailable[:min(len(unwantedAvailable), max(0, numAvailable-d.desired))] {
		d.delete(c.old, DeleteRollingUpdate, fmt.Sprintf("pod %s/%s on node %s is of an old revision and the node no "+
			"longer takes new pods; enough other pods are available", c.old.Namespace, c.old.Name, c.st.name()))
	}

	orderCandidates(cands)
	remaining := d.strategy.maxSurge - numSurge
	budget := d.partitionBudget()
	for _, c := range cands {
		if budget <= 0 {
			break
		}
		if !c.unavailable {
			if remaining <= 0 {
				continue
			}
			remaining--
		}
		budget--
		d.create(c.st.name(), CreateSurge)
	}
}

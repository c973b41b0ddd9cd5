package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// Decide plans one reconcile of a NodeAgentSet: it groups the set's pods by node, decides per node which pod to
// create or delete (the DaemonSet controller's manage step), adds the rolling update's replacements, and rebuilds
// the status with its conditions. It is deterministic: nodes are handled in name order and the pods of a node
// oldest first, so the same snapshot always gives the same plan. The snapshot is not modified.
//
// (The function cannot be called Plan: Go does not allow a function and a type of the same name in one package.)
func Decide(s Snapshot) Plan {
	d := newDecision(s)
	d.manage()
	d.relabel()
	d.rollingUpdate()

	plan := Plan{
		Status:       d.status(),
		RequeueAfter: d.requeueAfter(),
	}
	// With an unusable selector no pod is created or deleted: which pods belong to the set is unknown.
	if s.ExpectationsSatisfied && s.Set.DeletionTimestamp == nil && d.invalidSelector == "" {
		if d.selectorMismatch == "" {
			// Pods from a template the selector does not match would be released as soon as they exist and
			// replaced again, without end; nothing is created until the spec is fixed.
			plan.Creates = d.sortedCreates()
		}
		plan.Deletes = d.sortedDeletes()
		plan.Updates = d.sortedUpdates()
		plan.BackoffNext = d.sortedBackoffNext()
	}
	return plan
}

// nodeState is one node with the set's pods that target it.
type nodeState struct {
	node *corev1.Node
	// shouldRun: the node should get a pod if it has none. shouldContinueRunning: a pod already there may stay.
	shouldRun, shouldContinueRunning bool
	// pods target the node, oldest first; terminating pods included, terminal pods that are being deleted are not.
	pods []*corev1.Pod
	// failedInBackoff is set when a failed pod on the node waits for its backoff before it is replaced.
	failedInBackoff bool
	// override is the spec.nodeOverrides entry the update revision applies to the node; nil for none.
	override *v1alpha1.NodeOverride
}

func (n *nodeState) name() string { return n.node.Name }

// decision holds one planning pass: the inputs in the order they are visited and the actions gathered so far.
type decision struct {
	snap     Snapshot
	set      *v1alpha1.NodeAgentSet
	now      time.Time
	hash     string // the update revision's controller-revision-hash
	backoff  BackoffView
	nodes    []*nodeState // sorted by node name
	desired  int          // nodes with shouldRun
	strategy strategy
	// canary is the canary of the update revision, nil when the rolling update has none.
	canary *canaryState

	creates      map[string]CreateReason
	deletes      map[string]PodDeletion // by namespace/name
	updates      map[string]PodUpdate   // by namespace/name; never a pod that is also in deletes
	backoffNext  map[string]bool
	backoffWaits []time.Duration
	// deadlineIn is how long until the progress deadline passes, zero when it does not run.
	deadlineIn time.Duration

	// selectorMismatch explains why the template's labels do not match the selector; empty when they do.
	selectorMismatch string
	// invalidSelector explains why the selector cannot be used at all (InvalidSelector); empty when it can.
	invalidSelector string

	// byName finds a node's state by node name.
	byName map[string]*nodeState
	// upToDate says, per pod of the snapshot, whether it runs the update revision with the override its node
	// takes now: its hash is the update revision's and its node-override annotation names that override. A pod of
	// the update revision on a node that now takes another override is old and is replaced (or relabelled).
	upToDate map[*corev1.Pod]bool
	// relabelled are the pods this pass moves to the update revision by relabelling: they count as updated.
	relabelled map[*corev1.Pod]bool
	// available and readySince remember, for this pass, what placement says of a pod's availability and ready time:
	// both read the in-place update annotation (JSON) and the conditions, and the steps of a pass ask for the same
	// pod many times (at 1000 nodes an in-place rollout spent a quarter of the manager's CPU decoding the annotation).
	// Availability is worked out from the remembered ready time, so a pass reads each pod's readiness once.
	available  map[*corev1.Pod]bool
	readySince map[*corev1.Pod]readiness
	specs      effectiveSpecs
	// daemonSetNodes run a live pod that matches the selector and that a DaemonSet controls.
	daemonSetNodes map[string]bool

	// templates are the revisions' decoded contents by hash, filled as the pass needs them (in-place updates).
	templates map[string]*revision.Content
	// inPlaceChanges are, by the hash of a pod's revision, what an in-place update to the update revision changes
	// (nil when it cannot be made in place), worked out once per pass.
	inPlaceChanges map[string]*inPlaceChange
}

func newDecision(s Snapshot) *decision {
	d := &decision{
		snap:        s,
		set:         s.Set,
		now:         s.Now,
		hash:        revisionHash(s.UpdateRevision),
		backoff:     s.Backoff,
		creates:     map[string]CreateReason{},
		deletes:     map[string]PodDeletion{},
		updates:     map[string]PodUpdate{},
		backoffNext: map[string]bool{},
		upToDate:    make(map[*corev1.Pod]bool, len(s.Pods)),
		relabelled:  map[*corev1.Pod]bool{},
		available:   make(map[*corev1.Pod]bool, len(s.Pods)),
		readySince:  make(map[*corev1.Pod]readiness, len(s.Pods)),
	}
	if d.backoff == nil {
		d.backoff = NoBackoff{}
	}

	filter := placement.NewNodeFilter(s.Set)
	overrides := placement.NewOverrideMatcher(s.Set.Spec.NodeOverrides)
	byName := make(map[string]*nodeState, len(s.Nodes))
	d.byName = byName
	for _, node := range s.Nodes {
		if node == nil || byName[node.Name] != nil {
			continue
		}
		run, stay := filter.ShouldRun(node)
		st := &nodeState{node: node, shouldRun: run, shouldContinueRunning: stay, override: overrides.For(node)}
		byName[node.Name] = st
		d.nodes = append(d.nodes, st)
		if run {
			d.desired++
		}
	}
	slices.SortFunc(d.nodes, func(a, b *nodeState) int { return strings.Compare(a.name(), b.name()) })

	// Pods are grouped by node first and only a node's own pods are put in order (most nodes have one): sorting all
	// of a set's pods was a quarter of a pass at 1000 nodes (BenchmarkDecide, docs/benchmarks.md). Which node a pod
	// goes to and what is done with pods of nodes that are gone do not depend on the order.
	for _, pod := range s.Pods {
		if pod == nil {
			continue
		}
		if isTerminal(pod) && isTerminating(pod) {
			// The kubelet or the pod garbage collector finishes these; nothing is left for the controller to do, and
			// they must not hold back the replacement.
			continue
		}
		nodeName, err := placement.TargetNodeName(pod)
		if err != nil {
			// Not a pod this controller placed (no node pin); the DaemonSet controller ignores such pods too.
			continue
		}
		st := byName[nodeName]
		if st == nil {
			if !isTerminating(pod) {
				d.delete(pod, DeleteNodeGone, fmt.Sprintf("pod %s/%s targets node %s, which no longer exists",
					pod.Namespace, pod.Name, nodeName))
			}
			continue
		}
		st.pods = append(st.pods, pod)
		d.upToDate[pod] = d.hash != "" && pod.Labels[v1alpha1.ControllerRevisionHashLabel] == d.hash &&
			placement.PodOverride(pod) == placement.OverrideName(st.override)
	}
	for _, st := range d.nodes {
		if len(st.pods) > 1 {
			slices.SortFunc(st.pods, compareOldestFirst)
		}
	}
	d.specs = newEffectiveSpecs(s)
	d.daemonSetNodes = map[string]bool{}
	for _, pod := range s.DaemonSetPods {
		if pod == nil || isTerminal(pod) {
			continue
		}
		if nodeName, err := placement.TargetNodeName(pod); err == nil {
			d.daemonSetNodes[nodeName] = true
		}
	}

	d.strategy = resolveStrategy(s.Set, d.desired)
	d.invalidSelector = InvalidSelector(s.Set)
	d.selectorMismatch = selectorMismatch(s.Set)
	d.canary = d.resolveCanary()
	return d
}

// manage is the per-node step: every node that should run the set's pod gets one, failed and succeeded pods are
// replaced (failed ones after the node's backoff), duplicates go, and pods on nodes that may no longer run them go.
func (d *decision) manage() {
	for _, st := range d.nodes {
		if !st.shouldContinueRunning {
			for _, pod := range st.pods {
				if !isTerminating(pod) {
					d.delete(pod, DeleteIneligible, fmt.Sprintf("node %s no longer matches the set's node selector, "+
						"affinity or tolerations; deleting pod %s/%s", st.name(), pod.Namespace, pod.Name))
				}
			}
			continue
		}

		if st.shouldRun && d.needsPod(st) && !d.daemonSetNodes[st.name()] {
			d.create(st.name(), CreateMissing)
		}

		var running []*corev1.Pod
		for _, pod := range st.pods {
			if isTerminating(pod) {
				continue
			}
			switch pod.Status.Phase {
			case corev1.PodFailed:
				if waiting, left := d.backoff.InBackoff(st.name(), d.now); waiting {
					// The kubelet keeps rejecting or killing this pod; recreating it at once would loop hot.
					st.failedInBackoff = true
					d.backoffWaits = append(d.backoffWaits, left)
					continue
				}
				d.backoffNext[st.name()] = true
				d.delete(pod, DeleteFailed, fmt.Sprintf("found failed pod %s/%s on node %s, will try to kill it",
					pod.Namespace, pod.Name, st.name()))
			case corev1.PodSucceeded:
				d.delete(pod, DeleteSucceeded, fmt.Sprintf("found succeeded pod %s/%s on node %s, will try to delete it",
					pod.Namespace, pod.Name, st.name()))
			default:
				running = append(running, pod)
			}
		}

		if !d.strategy.allowsSurge {
			// One pod per node: the oldest stays.
			for _, pod := range after(running, 1) {
				d.delete(pod, DeleteDuplicate, fmt.Sprintf("node %s runs more than one pod of the set; deleting pod %s/%s "+
					"and keeping the oldest", st.name(), pod.Namespace, pod.Name))
			}
			continue
		}

		// With surge a node may run two pods, the oldest of the update revision beside the oldest of an older one.
		var oldestNew, oldestOld *corev1.Pod
		for _, pod := range running {
			switch {
			case d.isUpdated(pod) && oldestNew == nil:
				oldestNew = pod
			case !d.isUpdated(pod) && oldestOld == nil:
				oldestOld = pod
			default:
				d.delete(pod, DeleteDuplicate, fmt.Sprintf("node %s runs more than one pod of the same revision; "+
					"deleting pod %s/%s and keeping the oldest", st.name(), pod.Namespace, pod.Name))
			}
		}
		if oldestNew != nil && oldestOld != nil {
			switch {
			case !placement.IsPodReady(oldestOld):
				d.delete(oldestOld, DeleteSurgeReplaced, fmt.Sprintf("old pod %s/%s on node %s is not ready and pod %s "+
					"of the update revision runs beside it", oldestOld.Namespace, oldestOld.Name, st.name(), oldestNew.Name))
			case d.isAvailable(oldestNew):
				d.delete(oldestOld, DeleteSurgeReplaced, fmt.Sprintf("pod %s of the update revision is available on "+
					"node %s; deleting old pod %s/%s", oldestNew.Name, st.name(), oldestOld.Namespace, oldestOld.Name))
			}
		}
	}
}

// needsPod reports whether a node that should run the set's pod needs a new one. Without surge any pod blocks a
// create, a terminating one too, so a node never runs two pods at once; a failed pod is deleted first (after its
// backoff) and replaced on a later pass. With surge one terminating pod does not block: the replacement starts while
// the old pod shuts down, as the upstream controller does when surging, and the node holds at most two pods. A
// failed pod still blocks, so the node's backoff governs how often it is replaced.
func (d *decision) needsPod(st *nodeState) bool {
	if len(st.pods) == 0 {
		return true
	}
	return d.strategy.allowsSurge && len(st.pods) == 1 && isTerminating(st.pods[0])
}

func (d *decision) create(nodeName string, reason CreateReason) {
	if _, ok := d.creates[nodeName]; !ok {
		d.creates[nodeName] = reason
	}
}

// delete records a deletion; a pod already on the list keeps its first reason. A deletion overrides an in-place
// update planned for the same pod: the pod goes either way.
func (d *decision) delete(pod *corev1.Pod, reason DeleteReason, message string) {
	key := podKey(pod)
	if _, ok := d.deletes[key]; !ok {
		d.deletes[key] = PodDeletion{Pod: pod, Reason: reason, Message: message}
		delete(d.updates, key)
	}
}

// update records an in-place change of a live pod; a pod that is already deleted or updated in this pass is left
// as it is, so a pod gets one action per pass.
func (d *decision) update(u PodUpdate) {
	key := podKey(u.Pod)
	if _, deleted := d.deletes[key]; deleted {
		return
	}
	if _, ok := d.updates[key]; !ok {
		d.updates[key] = u
	}
}

func (d *decision) sortedCreates() []PodCreation {
	out := make([]PodCreation, 0, len(d.creates))
	for node, reason := range d.creates {
		c := PodCreation{NodeName: node, Reason: reason, Revision: d.revisionForNewPod(node)}
		if st := d.byName[node]; st != nil {
			c.NodeOverride = placement.OverrideName(st.override)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeName < out[j].NodeName })
	if len(out) == 0 {
		return nil
	}
	return out
}

func (d *decision) sortedDeletes() []PodDeletion { return byPodKey(d.deletes) }

func (d *decision) sortedUpdates() []PodUpdate { return byPodKey(d.updates) }

// byPodKey lists a pass's per-pod actions in namespace/name order, so the same snapshot always gives the same plan;
// nil when there are none.
func byPodKey[T any](actions map[string]T) []T {
	keys := make([]string, 0, len(actions))
	for k := range actions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []T
	for _, k := range keys {
		out = append(out, actions[k])
	}
	return out
}

func (d *decision) sortedBackoffNext() []string {
	var out []string
	for node := range d.backoffNext {
		out = append(out, node)
	}
	sort.Strings(out)
	return out
}

// isUpdated: the pod runs the update revision with its node's override, or this pass relabels it to that.
func (d *decision) isUpdated(pod *corev1.Pod) bool {
	if d.relabelled[pod] {
		return true
	}
	if upToDate, ok := d.upToDate[pod]; ok {
		return upToDate
	}
	return d.hash != "" && pod.Labels[v1alpha1.ControllerRevisionHashLabel] == d.hash
}

func (d *decision) isAvailable(pod *corev1.Pod) bool {
	if available, ok := d.available[pod]; ok {
		return available
	}
	since, ready := d.podReadySince(pod)
	available := placement.AvailableGivenReadiness(since, ready, d.set.Spec.MinReadySeconds, d.now)
	if d.available == nil {
		d.available = map[*corev1.Pod]bool{}
	}
	d.available[pod] = available
	return available
}

// readiness is placement.ReadySince's answer for one pod.
type readiness struct {
	since time.Time
	ready bool
}

// podReadySince is placement.ReadySince, remembered for the pass.
func (d *decision) podReadySince(pod *corev1.Pod) (time.Time, bool) {
	r, ok := d.readySince[pod]
	if !ok {
		r.since, r.ready = placement.ReadySince(pod)
		if d.readySince == nil {
			d.readySince = map[*corev1.Pod]readiness{}
		}
		d.readySince[pod] = r
	}
	return r.since, r.ready
}

// availableSince is when a pod became available: when it became ready (as placement.ReadySince tells, capped by the
// API server's record of the status write) plus minReadySeconds, and never later than now, since an available pod
// is available now whatever a skewed kubelet clock stamped. ok is false while the pod is not available.
func (d *decision) availableSince(pod *corev1.Pod) (time.Time, bool) {
	if !d.isAvailable(pod) {
		return time.Time{}, false
	}
	since, _ := d.podReadySince(pod)
	at := since.Add(time.Duration(d.set.Spec.MinReadySeconds) * time.Second)
	if at.After(d.now) {
		at = d.now
	}
	return at, true
}

func revisionHash(rev *appsv1.ControllerRevision) string {
	if rev == nil {
		return ""
	}
	return rev.Labels[v1alpha1.ControllerRevisionHashLabel]
}

func isTerminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

// isLive: the pod is neither terminating nor finished; it runs or is on its way to running.
func isLive(pod *corev1.Pod) bool { return !isTerminating(pod) && !isTerminal(pod) }

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

func after(pods []*corev1.Pod, n int) []*corev1.Pod {
	if len(pods) <= n {
		return nil
	}
	return pods[n:]
}

// compareOldestFirst orders a node's pods oldest first, as the DaemonSet controller does when it picks the pod a node
// keeps: bound pods before pending ones (a pod the scheduler placed is the one that runs), then by creation time,
// then by namespace and name, which no two pods share, so the order is total and a plain sort is deterministic.
func compareOldestFirst(a, b *corev1.Pod) int {
	if aBound, bBound := a.Spec.NodeName != "", b.Spec.NodeName != ""; aBound != bBound {
		if aBound {
			return -1
		}
		return 1
	}
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// InvalidSelector says, naming the field and value, why the set's selector cannot be used at all: missing, empty
// (it would select every pod in the namespace) or malformed (an operator the API does not know, In without values,
// a bad key). Empty when the selector is usable. The CRD schema and the admission webhook keep such sets out; this
// guards a set stored without the webhook, with what the schema cannot check. The reconciler then touches no pod.
func InvalidSelector(set *v1alpha1.NodeAgentSet) string {
	path := field.NewPath("spec", "selector")
	selector := set.Spec.Selector
	if selector == nil {
		return field.Required(path, "a NodeAgentSet needs a selector").Error()
	}
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		return field.Invalid(path, "{}", "empty selector is invalid for a NodeAgentSet: it would select every pod in the namespace").Error()
	}
	errs := metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, path)
	if len(errs) == 0 {
		if _, err := metav1.LabelSelectorAsSelector(selector); err != nil {
			errs = append(errs, field.Invalid(path, selector.String(), err.Error()))
		}
	}
	if len(errs) == 0 {
		return ""
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	// matchLabels is a map: sorted, the message is the same on every pass and the status is not rewritten.
	sort.Strings(msgs)
	return strings.Join(msgs, "; ")
}

// selectorMismatch says, naming the field and value, why the set's selector does not select its own template's
// pods; empty when it does (or when it is invalid, which InvalidSelector reports). The admission webhook rejects
// such sets; this guards a set stored without it.
func selectorMismatch(set *v1alpha1.NodeAgentSet) string {
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return ""
	}
	if !selector.Matches(labels.Set(set.Spec.Template.Labels)) {
		return fmt.Sprintf("spec.selector: %q does not match the template labels %v; no pods are created until it does",
			selector.String(), labels.Set(set.Spec.Template.Labels))
	}
	return ""
}

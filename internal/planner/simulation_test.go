package planner

// The sequence simulation runs the planner as the controller would, against an in-memory cluster: a fake API server
// that names, creates and deletes pods, a fake scheduler and kubelet that bind pods, start them and make them ready
// after random delays, terminating pods that vanish after a random grace period, and an informer cache that lags
// behind the cluster by a few steps. Every step does one thing chosen at random (the controller reconciles, or one
// due scheduler/kubelet event happens) while time moves on, and after every step the rollout bounds are checked on
// the cluster's true state:
//
//   - Without surge a node never holds more than one pod, terminating ones included: the controller only creates
//     on a node whose pod is gone from its cache, and its expectations keep it from acting on a cache that has not
//     yet seen its own creates and deletes.
//   - Without surge the eligible nodes lacking a live (not terminating) available pod never exceed maxUnavailable,
//     or the number that already lacked one when the rollout started (a template change mid-rollout).
//   - With surge a node holds at most two pods and at most one per revision and override, terminating ones
//     included; every node keeps an available pod throughout, and at most maxSurge nodes run a new pod that is
//     not yet available beside an old one.
//   - With a partition P at most desired-P nodes have a new pod or have lost their old one.
//   - While paused no pod of the update revision appears except on nodes that had no pod.
//   - With a canary, no node outside the canary holds a pod of the update revision before the canary passed (and,
//     with Manual promotion, was promoted), judged by the simulation's own clock and readiness: every canary node
//     has had an available pod of the update revision for the canary's duration. A node that joins meanwhile gets
//     the stable revision. After an Abort the canary nodes run the stable revision again.
//   - ProgressDeadlineExceeded is never reported while paused, nor before the deadline has passed since the rollout
//     started or resumed or a pod of the update revision last became available (by the simulation's clock).
//   - Every phase ends (rollout complete, or the partition reached) within a bounded number of steps, and the
//     planner's status then says so.
//   - No pod is patched in place while the simulated kubelet has not yet restarted it from its last patch.
//
// Pods never fail or lose readiness here by themselves, except pods of a revision the test marks broken: they
// crash-loop (CrashLoopBackOff, restarts) and never become ready. So every other unavailability is the controller's
// doing and the bounds are exact. Randomness comes from math/rand with fixed seeds: a failure is reproducible by its seed.

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// simPod is a pod in the fake cluster with the times of its next lifecycle events.
type simPod struct {
	pod                     *corev1.Pod
	target                  string
	bindAt, runAt, readyAt  time.Time
	goneAt                  time.Time // set once deleted
	bound, running, isReady bool
	// crash: the pod's revision is broken; once running it crash-loops and never becomes ready.
	crash bool
	// An in-place image patch: the kubelet stops the changed container at stopAt and has it running and ready on the
	// new image at restartedAt. The simulation's own oracle counts the pod unavailable from the patch until then.
	inPlace             bool
	stopAt, restartedAt time.Time
	stopped             bool
}

type sim struct {
	t      *testing.T
	rng    *rand.Rand
	now    time.Time
	set    *v1alpha1.NodeAgentSet
	nodes  []*corev1.Node
	pods   map[string]*simPod
	podSeq int
	revs   []*appsv1.ControllerRevision
	update *appsv1.ControllerRevision
	steps  int
	maxLag int

	// history holds the cluster's pods after every step; the cache shows one of the last few entries.
	history   [][]*corev1.Pod
	cacheSeen int

	// Expectations: pods the controller created, deleted or relabelled that its cache has not shown yet.
	expectCreate map[string]bool
	expectDelete map[string]bool
	expectUpdate map[string]string // pod name -> revision hash the cache must show

	bounds bounds
	log    []string

	// broken lists revision hashes whose pods crash-loop.
	broken map[string]bool
	// canaryPassedAt is when the simulation's own oracle saw the canary pass (zero: not yet).
	canaryPassedAt time.Time
	// deadlineFrom is when the progress deadline last started counting by the test's own account: a template
	// change or a resume.
	deadlineFrom time.Time
	// relabels counts pods moved to another revision in place.
	relabels int
	// deleted records every pod name the controller deleted.
	deleted map[string]bool
}

// bounds are the invariants checked after every step of the current phase.
type bounds struct {
	surge          bool
	rollout        bool // a rollout is under way: availability bounds apply
	maxUnavailable int
	maxSurge       int
	partition      int // 0: none
	paused         bool
	newNodes       map[string]bool // nodes added without a pod during a pause
	// canaryNodes, when set, are the nodes the canary must be contained to; canaryDuration is how long their pods
	// must be available first; manual says a promotion is needed too, and promoted that it was given.
	canaryNodes    map[string]bool
	canaryDuration time.Duration
	manual         bool
	promoted       bool
}

func newSim(t *testing.T, seed int64, nodeCount int, opts ...setOpt) *sim {
	s := &sim{
		t:            t,
		rng:          rand.New(rand.NewSource(seed)),
		now:          t0,
		set:          newSet(opts...),
		pods:         map[string]*simPod{},
		expectCreate: map[string]bool{},
		expectDelete: map[string]bool{},
		expectUpdate: map[string]string{},
		maxLag:       3,
		broken:       map[string]bool{},
	}
	s.set.Generation = 1
	s.set.Status = v1alpha1.NodeAgentSetStatus{}
	s.set.Spec.Template.Spec.Containers[0].Image = "agent:1"
	s.newRevision()
	for i := 1; i <= nodeCount; i++ {
		s.nodes = append(s.nodes, node(fmt.Sprintf("n%02d", i)))
	}
	s.record()
	return s
}

// newRevision makes a ControllerRevision for the set's current template and makes it the update revision.
func (s *sim) newRevision() {
	n := int64(len(s.revs) + 1)
	hash := fmt.Sprintf("rev%d", n)
	// With the template's data, as the controller stores it, so that the planner can compare revisions.
	rev, err := revision.New(s.set, hash, n)
	if err != nil {
		s.t.Fatalf("revision for %s: %v", hash, err)
	}
	s.revs = append(s.revs, rev)
	s.update = rev
}

// changeTemplate changes the pod template, as `kubectl nas set image` would.
func (s *sim) changeTemplate(image string) {
	s.set.Spec.Template.Spec.Containers[0].Image = image
	s.set.Generation++
	s.newRevision()
	s.deadlineFrom = s.now
	s.logf("template changed to %s (revision %s)", image, s.update.Name)
}

// changeStrategy edits spec.updateStrategy.rollingUpdate.
func (s *sim) changeStrategy(f func(ru *v1alpha1.RollingUpdateNodeAgentSet)) {
	f(s.set.Spec.UpdateStrategy.RollingUpdate)
	s.set.Generation++
}

func (s *sim) logf(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("step %d %s: ", s.steps, s.now.Sub(t0))+fmt.Sprintf(format, args...))
}

func (s *sim) sortedPodNames() []string {
	names := make([]string, 0, len(s.pods))
	for n := range s.pods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *sim) record() {
	var snap []*corev1.Pod
	for _, name := range s.sortedPodNames() {
		snap = append(snap, s.pods[name].pod.DeepCopy())
	}
	s.history = append(s.history, snap)
	// Only the last few entries can still be shown by the cache; drop the older ones.
	if drop := len(s.history) - 2*(s.maxLag+1); drop > 0 && s.cacheSeen >= drop {
		s.history = append(s.history[:0:0], s.history[drop:]...)
		s.cacheSeen -= drop
	}
}

func (s *sim) jitter(max time.Duration) time.Duration {
	return time.Duration(s.rng.Int63n(int64(max) + 1))
}

// step does one random thing: the controller reconciles, or one due scheduler/kubelet event happens. Time moves on
// by up to half a second either way.
func (s *sim) step() {
	s.steps++
	s.now = s.now.Add(s.jitter(500 * time.Millisecond))
	due := s.dueEvents()
	if len(due) == 0 || s.rng.Intn(3) == 0 {
		s.reconcile()
	} else {
		due[s.rng.Intn(len(due))]()
	}
	s.record()
	s.check()
}

// dueEvents lists the lifecycle events whose time has come, in pod name order.
func (s *sim) dueEvents() []func() {
	var out []func()
	for _, name := range s.sortedPodNames() {
		p := s.pods[name]
		switch {
		case p.pod.DeletionTimestamp != nil:
			if !s.now.Before(p.goneAt) {
				out = append(out, func() { delete(s.pods, name); s.logf("kubelet: %s on %s is gone", name, p.target) })
			}
		case !p.bound:
			if !s.now.Before(p.bindAt) {
				out = append(out, func() {
					p.bound = true
					p.pod.Spec.NodeName = p.target
					p.pod.Status.Conditions = append(p.pod.Status.Conditions,
						corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
					s.logf("scheduler: %s bound to %s", name, p.target)
				})
			}
		case !p.running:
			if !s.now.Before(p.runAt) {
				out = append(out, func() {
					p.running = true
					p.pod.Status.Phase = corev1.PodRunning
					if p.crash {
						p.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
							Name: "agent", RestartCount: 3,
							State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
						}}
					}
					s.logf("kubelet: %s running", name)
				})
			}
		case p.crash:
			// Never ready.
		case p.inPlace && !p.stopped:
			if !s.now.Before(p.stopAt) {
				out = append(out, func() {
					p.stopped = true
					setReady(p.pod, corev1.ConditionFalse, s.now)
					s.logf("kubelet: %s stops its changed container", name)
				})
			}
		case p.inPlace:
			if !s.now.Before(p.restartedAt) {
				out = append(out, func() {
					p.inPlace, p.stopped = false, false
					c := p.pod.Spec.Containers[0]
					restarts := int32(1)
					if len(p.pod.Status.ContainerStatuses) > 0 {
						restarts = p.pod.Status.ContainerStatuses[0].RestartCount + 1
					}
					p.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: c.Name, Image: c.Image, ImageID: "id-" + c.Image,
						RestartCount: restarts, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
					setReady(p.pod, corev1.ConditionTrue, s.now)
					s.logf("kubelet: %s restarted on %s", name, c.Image)
				})
			}
		case !p.isReady:
			if !s.now.Before(p.readyAt) {
				out = append(out, func() {
					p.isReady = true
					p.pod.Status.Conditions = append(p.pod.Status.Conditions, corev1.PodCondition{
						Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(s.now)})
					s.logf("kubelet: %s ready", name)
				})
			}
		}
	}
	return out
}

// cacheView is what the controller's informer shows: the cluster as it was up to maxLag steps ago, never going
// back in time.
func (s *sim) cacheView() []*corev1.Pod {
	latest := len(s.history) - 1
	from := max(s.cacheSeen, latest-s.maxLag)
	s.cacheSeen = from + s.rng.Intn(latest-from+1)
	// History entries are copies that nothing modifies (the planner does not modify its snapshot), so the view can
	// share them.
	return s.history[s.cacheSeen]
}

// reconcile is the controller: plan on the cached view, then create and delete through the fake API server.
func (s *sim) reconcile() {
	view := s.cacheView()
	inView := map[string]*corev1.Pod{}
	for _, p := range view {
		inView[p.Name] = p
	}
	for name := range s.expectCreate {
		if inView[name] != nil {
			delete(s.expectCreate, name)
		}
	}
	for name := range s.expectDelete {
		if p := inView[name]; p == nil || p.DeletionTimestamp != nil {
			delete(s.expectDelete, name)
		}
	}
	for name, hash := range s.expectUpdate {
		if p := inView[name]; p == nil || p.Labels[v1alpha1.ControllerRevisionHashLabel] == hash {
			delete(s.expectUpdate, name)
		}
	}
	plan := Decide(Snapshot{
		Set:                   s.set.DeepCopy(),
		Nodes:                 s.nodes,
		Pods:                  view,
		Revisions:             s.revs,
		UpdateRevision:        s.update,
		Now:                   s.now,
		Backoff:               NoBackoff{},
		ExpectationsSatisfied: len(s.expectCreate) == 0 && len(s.expectDelete) == 0 && len(s.expectUpdate) == 0,
	})
	s.set.Status = plan.Status

	for _, u := range plan.Updates {
		if len(u.Images) > 0 {
			continue // an in-place image update, below
		}
		p := s.pods[u.Pod.Name]
		if p == nil || p.pod.DeletionTimestamp != nil {
			s.t.Fatalf("relabel of %s: pod gone or terminating", u.Pod.Name)
		}
		// The API server applies the patch to a new copy; the cache history keeps the old one.
		relabelled := p.pod.DeepCopy()
		relabelled.Labels[v1alpha1.ControllerRevisionHashLabel] = revisionHash(u.Revision)
		delete(relabelled.Annotations, v1alpha1.NodeOverrideAnnotation)
		if u.NodeOverride != "" {
			if relabelled.Annotations == nil {
				relabelled.Annotations = map[string]string{}
			}
			relabelled.Annotations[v1alpha1.NodeOverrideAnnotation] = u.NodeOverride
		}
		p.pod = relabelled
		s.expectUpdate[u.Pod.Name] = revisionHash(u.Revision)
		s.relabels++
		s.logf("controller: relabel %s on %s to %s/%s", u.Pod.Name, p.target, revisionHash(u.Revision), u.NodeOverride)
	}

	for _, d := range plan.Deletes {
		p := s.pods[d.Pod.Name]
		s.expectDelete[d.Pod.Name] = true
		if p == nil || p.pod.DeletionTimestamp != nil {
			continue // already gone or going: the API server has nothing to do
		}
		ts := metav1.NewTime(s.now)
		p.pod.DeletionTimestamp = &ts
		p.goneAt = s.now.Add(s.jitter(5 * time.Second))
		if s.deleted == nil {
			s.deleted = map[string]bool{}
		}
		s.deleted[d.Pod.Name] = true
		s.logf("controller: delete %s on %s (%s)", d.Pod.Name, p.target, d.Reason)
	}
	for _, u := range plan.Updates {
		if len(u.Images) == 0 {
			continue // a relabel, above
		}
		p := s.pods[u.Pod.Name]
		hash := revisionHash(u.Revision)
		s.expectUpdate[u.Pod.Name] = hash
		if p == nil || p.pod.DeletionTimestamp != nil {
			continue
		}
		if p.inPlace {
			// The kubelet may yet start the images of the last patch; a second one could not be told from them.
			s.fail("in-place update of %s while the kubelet has not restarted it from its last one", u.Pod.Name)
		}
		// The API server applies the patch to a new copy; the cache history keeps the old one.
		p.pod = p.pod.DeepCopy()
		// What the reconciler's patch does: images, revision label, and the state annotation.
		state, err := json.Marshal(placement.NewInPlaceUpdateState(p.pod, hash, u.Images))
		if err != nil {
			s.t.Fatal(err)
		}
		p.pod.Labels[v1alpha1.ControllerRevisionHashLabel] = hash
		for i := range p.pod.Spec.Containers {
			if image, ok := u.Images[p.pod.Spec.Containers[i].Name]; ok {
				p.pod.Spec.Containers[i].Image = image
			}
		}
		metav1.SetMetaDataAnnotation(&p.pod.ObjectMeta, v1alpha1.InPlaceUpdateStateAnnotation, string(state))
		p.inPlace, p.stopped = true, false
		p.stopAt = s.now.Add(s.jitter(2 * time.Second))
		p.restartedAt = p.stopAt.Add(s.jitter(3 * time.Second))
		s.logf("controller: update %s on %s in place (%v)", u.Pod.Name, p.target, u.Images)
	}
	for _, c := range plan.Creates {
		rev := s.update
		if c.Revision != nil {
			rev = c.Revision
		}
		pod := placement.NewPodWithOverride(s.set, &s.set.Spec.Template,
			placement.NewOverrideMatcher(s.set.Spec.NodeOverrides).Named(c.NodeOverride), c.NodeName, revisionHash(rev))
		s.podSeq++
		pod.Name = fmt.Sprintf("%s%04d", pod.GenerateName, s.podSeq)
		pod.CreationTimestamp = metav1.NewTime(s.now)
		pod.Status.Phase = corev1.PodPending
		target, err := placement.TargetNodeName(pod)
		if err != nil || target != c.NodeName {
			s.t.Fatalf("new pod for %s targets %q (%v)", c.NodeName, target, err)
		}
		bindAt := s.now.Add(s.jitter(2 * time.Second))
		runAt := bindAt.Add(s.jitter(3 * time.Second))
		s.pods[pod.Name] = &simPod{pod: pod, target: target, bindAt: bindAt, runAt: runAt, readyAt: runAt.Add(s.jitter(4 * time.Second)),
			crash: s.broken[revisionHash(rev)]}
		s.expectCreate[pod.Name] = true
		s.logf("controller: create %s on %s (%s, %s)", pod.Name, c.NodeName, c.Reason, revisionHash(rev))
	}
}

// nodePods groups the cluster's pods by target node, oldest first.
func (s *sim) nodePods() map[string][]*simPod {
	out := map[string][]*simPod{}
	for _, name := range s.sortedPodNames() {
		p := s.pods[name]
		out[p.target] = append(out[p.target], p)
	}
	return out
}

func (s *sim) available(p *simPod) bool {
	// A pod patched in place is unavailable until the simulated kubelet restarted it, whatever its status says.
	return p.pod.DeletionTimestamp == nil && !p.inPlace && placement.IsPodAvailable(p.pod, s.set.Spec.MinReadySeconds, s.now)
}

// isNew: the pod is of the update revision, made with the override its node takes now. The oracle reads the node's
// override from the set and the node's labels itself.
func (s *sim) isNew(p *simPod) bool {
	if p.pod.Labels[v1alpha1.ControllerRevisionHashLabel] != revisionHash(s.update) {
		return false
	}
	want := ""
	for _, n := range s.nodes {
		if n.Name != p.target {
			continue
		}
		for _, o := range s.set.Spec.NodeOverrides {
			if labelsMatch(o.NodeSelector.MatchLabels, n.Labels) {
				want = o.Name
				break
			}
		}
	}
	return p.pod.Annotations[v1alpha1.NodeOverrideAnnotation] == want
}

// labelsMatch: every wanted label is on the node (the simulation's overrides select by matchLabels only).
func labelsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	tail := s.log
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	s.t.Fatalf("step %d: %s\n%s\nlast events:\n  %s", s.steps, fmt.Sprintf(format, args...), s.describe(), strings.Join(tail, "\n  "))
}

func (s *sim) describe() string {
	var b strings.Builder
	byNode := s.nodePods()
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "  %s:", n.Name)
		for _, p := range byNode[n.Name] {
			state := "pending"
			switch {
			case p.pod.DeletionTimestamp != nil:
				state = "terminating"
			case s.available(p):
				state = "available"
			case p.isReady:
				state = "ready"
			case p.running:
				state = "running"
			case p.bound:
				state = "bound"
			}
			fmt.Fprintf(&b, " %s[%s %s]", p.pod.Name, p.pod.Labels[v1alpha1.ControllerRevisionHashLabel], state)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// check asserts the bounds on the cluster's true state.
func (s *sim) check() {
	s.t.Helper()
	bd := s.bounds
	byNode := s.nodePods()
	unavailable, surging, updatedOrEmpty, newPods := 0, 0, 0, 0
	for _, n := range s.nodes {
		pods := byNode[n.Name]
		perRevision := map[string]int{}
		var liveNew, liveOld *simPod
		for _, p := range pods {
			// A revision's pods differ by override: a node moved to another class surges a pod of the same revision.
			perRevision[p.pod.Labels[v1alpha1.ControllerRevisionHashLabel]+"/"+p.pod.Annotations[v1alpha1.NodeOverrideAnnotation]]++
			if s.isNew(p) {
				newPods++
			}
			if p.pod.DeletionTimestamp != nil {
				continue
			}
			if s.isNew(p) {
				liveNew = p
			} else {
				liveOld = p
			}
		}
		if !bd.surge && len(pods) > 1 {
			s.fail("node %s holds %d pods without surge", n.Name, len(pods))
		}
		if bd.surge {
			if len(pods) > 2 {
				s.fail("node %s holds %d pods with surge", n.Name, len(pods))
			}
			for rev, count := range perRevision {
				if count > 1 {
					s.fail("node %s holds %d pods of revision %s", n.Name, count, rev)
				}
			}
		}
		hasAvailable := false
		for _, p := range pods {
			if s.available(p) {
				hasAvailable = true
			}
		}
		if !hasAvailable {
			unavailable++
		}
		if liveNew != nil && liveOld != nil && !s.available(liveNew) {
			surging++
		}
		if liveNew != nil || liveOld == nil {
			updatedOrEmpty++
		}
	}
	if !bd.rollout {
		return
	}
	if unavailable > bd.maxUnavailable {
		s.fail("%d nodes lack an available pod, more than the %d allowed", unavailable, bd.maxUnavailable)
	}
	if bd.surge && surging > bd.maxSurge {
		s.fail("%d nodes surge, more than maxSurge %d", surging, bd.maxSurge)
	}
	if bd.partition > 0 && updatedOrEmpty > len(s.nodes)-bd.partition {
		s.fail("%d nodes are updated or lost their old pod, more than %d nodes minus partition %d", updatedOrEmpty, len(s.nodes), bd.partition)
	}
	if bd.canaryNodes != nil {
		s.checkCanary(byNode)
	}
	s.checkDeadline()
	if bd.paused {
		allowed := 0
		for _, p := range s.pods {
			if s.isNew(p) && bd.newNodes[p.target] {
				allowed++
			}
		}
		if newPods > allowed {
			s.fail("paused, yet %d pods of the update revision run on nodes that had an old pod", newPods-allowed)
		}
	}
}

// runUntil steps until done holds on the cluster's true state, failing after limit steps.
func (s *sim) runUntil(what string, limit int, done func() bool) {
	s.t.Helper()
	for i := 0; i < limit; i++ {
		if done() {
			return
		}
		s.step()
	}
	s.fail("%s: not reached within %d steps", what, limit)
}

// converged: every node runs exactly one pod, live and available, and wantNew of them run the update revision.
func (s *sim) converged(wantNew int) func() bool {
	return func() bool {
		byNode := s.nodePods()
		updated := 0
		for _, n := range s.nodes {
			pods := byNode[n.Name]
			if len(pods) != 1 || !s.available(pods[0]) {
				return false
			}
			if s.isNew(pods[0]) {
				updated++
			}
		}
		return updated == wantNew
	}
}

// settle lets the controller observe the converged cluster and returns its verdict as a conditions line.
func (s *sim) settle() string {
	s.cacheSeen = len(s.history) - 1
	s.maxLag = 0
	s.reconcile()
	s.reconcile() // the second pass sees the observed generation
	s.maxLag = 3
	st := s.set.Status
	if int(st.DesiredNumberScheduled) != len(s.nodes) || st.NumberAvailable != st.DesiredNumberScheduled ||
		st.CurrentNumberScheduled != st.DesiredNumberScheduled || st.NumberMisscheduled != 0 {
		s.fail("status after convergence: %+v", st)
	}
	return conditionsLine(st)
}

func (s *sim) expectConditions(want string) {
	s.t.Helper()
	if got := s.settle(); got != want {
		s.fail("conditions:\n got  %s\n want %s", got, want)
	}
}

const (
	completeLine    = "Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete"
	partitionedLine = "Ready=True/Partitioned Progressing=True/Partitioned Reconciling=False/Partitioned Stalled=False/Partitioned"
	pausedLine      = "Ready=True/Partitioned Progressing=False/RolloutPaused Reconciling=False/RolloutPaused Stalled=False/RolloutPaused"
)

// startRollout brings up the first revision on every node, then changes the template.
func (s *sim) startRollout() {
	s.t.Helper()
	s.runUntil("initial pods", 3000, s.converged(len(s.nodes)))
	s.expectConditions(completeLine)
	s.changeTemplate("agent:2")
}

var simSeeds = []int64{1, 2, 3, 5, 8, 13, 21, 34}

const simNodes = 7

func TestSimulationRollingUpdate(t *testing.T) {
	cases := []struct {
		name           string
		opts           []setOpt
		surge          bool
		maxUnavailable int // resolved against simNodes
		maxSurge       int
	}{
		{"maxUnavailable 1", []setOpt{maxUnavailable("1")}, false, 1, 0},
		{"maxUnavailable 2", []setOpt{maxUnavailable("2")}, false, 2, 0},
		{"maxUnavailable 30%", []setOpt{maxUnavailable("30%")}, false, 3, 0},
		{"maxUnavailable 2 with minReadySeconds", []setOpt{maxUnavailable("2"), minReady(3)}, false, 2, 0},
		{"maxSurge 1", []setOpt{maxSurge("1")}, true, 0, 1},
		{"maxSurge 20% with minReadySeconds", []setOpt{maxSurge("20%"), minReady(3)}, true, 0, 2},
	}
	for _, tc := range cases {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				s := newSim(t, seed, simNodes, tc.opts...)
				s.bounds = bounds{surge: tc.surge}
				s.startRollout()
				s.bounds = bounds{surge: tc.surge, rollout: true, maxUnavailable: tc.maxUnavailable, maxSurge: tc.maxSurge}
				s.runUntil("rollout complete", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)
			})
		}
	}
}

func TestSimulationPartition(t *testing.T) {
	cases := []struct {
		name  string
		opts  []setOpt
		surge bool
	}{
		{"without surge", []setOpt{maxUnavailable("2"), partition("3")}, false},
		{"with surge", []setOpt{maxSurge("2"), partition("3")}, true},
	}
	for _, tc := range cases {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				s := newSim(t, seed, simNodes, tc.opts...)
				s.bounds = bounds{surge: tc.surge}
				s.startRollout()
				s.bounds = bounds{surge: tc.surge, rollout: true, maxUnavailable: 2, maxSurge: 2, partition: 3}
				s.runUntil("partition 3 reached", 4000, s.converged(simNodes-3))
				// The partition holds: nothing moves any more.
				for i := 0; i < 200; i++ {
					s.step()
				}
				if !s.converged(simNodes - 3)() {
					s.fail("the rollout moved past partition 3")
				}
				s.expectConditions(partitionedLine)

				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Partition = intOrStr("1") })
				s.bounds.partition = 1
				s.runUntil("partition 1 reached", 4000, s.converged(simNodes-1))
				s.expectConditions(partitionedLine)

				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Partition = intOrStr("0") })
				s.bounds.partition = 0
				s.runUntil("rollout complete", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)
			})
		}
	}
}

func TestSimulationPauseAndResume(t *testing.T) {
	cases := []struct {
		name  string
		opts  []setOpt
		surge bool
	}{
		{"without surge", []setOpt{maxUnavailable("1")}, false},
		{"with surge", []setOpt{maxSurge("1")}, true},
	}
	for _, tc := range cases {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				s := newSim(t, seed, simNodes, tc.opts...)
				s.bounds = bounds{surge: tc.surge}
				s.runUntil("initial pods", 3000, s.converged(simNodes))
				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Paused = true })
				s.changeTemplate("agent:2")
				// A node joins while paused: it gets a pod, of the update revision.
				s.nodes = append(s.nodes, node("n99"))
				s.bounds = bounds{surge: tc.surge, rollout: true, maxUnavailable: 1, maxSurge: 1, paused: true,
					newNodes: map[string]bool{"n99": true}}
				s.runUntil("the new node's pod available", 3000, func() bool {
					pods := s.nodePods()["n99"]
					return len(pods) == 1 && s.available(pods[0])
				})
				for i := 0; i < 300; i++ {
					s.step()
				}
				s.expectConditions(pausedLine)

				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Paused = false })
				s.bounds.paused = false
				s.runUntil("rollout complete", 4000, s.converged(len(s.nodes)))
				s.expectConditions(completeLine)
			})
		}
	}
}

func TestSimulationTemplateChangeMidRollout(t *testing.T) {
	cases := []struct {
		name  string
		opts  []setOpt
		surge bool
	}{
		{"without surge", []setOpt{maxUnavailable("2"), minReady(2)}, false},
		{"with surge", []setOpt{maxSurge("2"), minReady(2)}, true},
	}
	for _, tc := range cases {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				s := newSim(t, seed, simNodes, tc.opts...)
				s.bounds = bounds{surge: tc.surge}
				s.startRollout()
				s.bounds = bounds{surge: tc.surge, rollout: true, maxUnavailable: 2, maxSurge: 2}
				for i := 0; i < 40+s.rng.Intn(60); i++ {
					s.step()
				}
				// A third template before the second is everywhere: the second revision's pods are now old, the ones
				// not yet available among them are replaced at once, so the unavailability bound is what it was.
				already := 0
				byNode := s.nodePods()
				for _, n := range s.nodes {
					has := false
					for _, p := range byNode[n.Name] {
						has = has || s.available(p)
					}
					if !has {
						already++
					}
				}
				s.changeTemplate("agent:3")
				s.bounds.maxUnavailable = max(s.bounds.maxUnavailable, already)
				s.runUntil("rollout complete", 5000, s.converged(simNodes))
				s.expectConditions(completeLine)
			})
		}
	}
}

// oracleAvailableSince is when the pod became available by the simulation's own clock: its kubelet's ready time
// plus minReadySeconds. ok is false while it is not available (or going).
func (s *sim) oracleAvailableSince(p *simPod) (time.Time, bool) {
	if p.pod.DeletionTimestamp != nil || !p.isReady {
		return time.Time{}, false
	}
	at := p.readyAt.Add(time.Duration(s.set.Spec.MinReadySeconds) * time.Second)
	return at, !at.After(s.now)
}

// checkCanary records when the canary passed by the simulation's own judgement, and fails when a node outside the
// canary holds a pod of the update revision before that (or before the promotion, with Manual).
func (s *sim) checkCanary(byNode map[string][]*simPod) {
	s.t.Helper()
	bd := s.bounds
	if s.canaryPassedAt.IsZero() {
		passed := true
		for node := range bd.canaryNodes {
			ok := false
			for _, p := range byNode[node] {
				if since, avail := s.oracleAvailableSince(p); avail && s.isNew(p) && !since.Add(bd.canaryDuration).After(s.now) {
					ok = true
				}
			}
			passed = passed && ok
		}
		if passed {
			s.canaryPassedAt = s.now
			s.logf("oracle: canary passed")
		}
	}
	released := !s.canaryPassedAt.IsZero() && (!bd.manual || bd.promoted)
	if released {
		return
	}
	for _, n := range s.nodes {
		if bd.canaryNodes[n.Name] {
			continue
		}
		for _, p := range byNode[n.Name] {
			if s.isNew(p) {
				s.fail("node %s is outside the canary and holds %s of the update revision before the canary passed", n.Name, p.pod.Name)
			}
		}
	}
}

// checkDeadline fails when the planner reports ProgressDeadlineExceeded although, by the simulation's own clock, the
// rollout started (or resumed) or a pod of the update revision became available within the deadline, or while the
// rollout is paused.
func (s *sim) checkDeadline() {
	s.t.Helper()
	c := condition(s.set.Status, v1alpha1.ConditionProgressing)
	if c == nil || c.Reason != v1alpha1.ReasonProgressDeadlineExceeded {
		return
	}
	if s.bounds.paused {
		s.fail("progress deadline reported exceeded while paused")
	}
	deadline := time.Duration(v1alpha1.DefaultProgressDeadline(s.set.Spec.MinReadySeconds)) * time.Second
	if p := s.set.Spec.ProgressDeadlineSeconds; p != nil {
		deadline = time.Duration(*p) * time.Second
	}
	latest := s.deadlineFrom
	for _, p := range s.pods {
		if since, ok := s.oracleAvailableSince(p); ok && s.isNew(p) && since.After(latest) {
			latest = since
		}
	}
	if s.now.Sub(latest) < deadline {
		s.fail("progress deadline reported exceeded %s after the last progress, before the %s deadline", s.now.Sub(latest), deadline)
	}
}

// With node overrides, an override change replaces only the pods of the nodes it covers (the others are relabelled
// and never restart), and a node moved to another class gets its pod replaced within the same bounds.
func TestSimulationNodeOverrides(t *testing.T) {
	cases := []struct {
		name  string
		opts  []setOpt
		surge bool
	}{
		{"without surge", []setOpt{maxUnavailable("2")}, false},
		{"with surge", []setOpt{maxSurge("2"), minReady(2)}, true},
	}
	for _, tc := range cases {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				opts := append([]setOpt{withOverrides(classOverride("large", "m7i.8xlarge", "500m"),
					classOverride("small", "t3.small", "250m"))}, tc.opts...)
				s := newSim(t, seed, simNodes, opts...)
				large := map[string]bool{}
				for i, n := range s.nodes {
					class := "t3.small"
					if i%2 == 0 {
						class = "m7i.8xlarge"
						large[n.Name] = true
					}
					n.Labels[instanceType] = class
				}
				s.bounds = bounds{surge: tc.surge}
				s.runUntil("initial pods", 3000, s.converged(simNodes))
				s.expectConditions(completeLine)

				before := map[string]string{}
				for node, pods := range s.nodePods() {
					before[node] = pods[0].pod.Name
				}
				s.set.Spec.NodeOverrides[0] = classOverride("large", "m7i.8xlarge", "1")
				s.set.Generation++
				s.newRevision()
				s.bounds = bounds{surge: tc.surge, rollout: true, maxUnavailable: 2, maxSurge: 2}
				s.runUntil("override rollout complete", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)
				for node, pods := range s.nodePods() {
					kept := pods[0].pod.Name == before[node]
					if kept == large[node] {
						s.fail("node %s (large %v): pod %s before, %s now", node, large[node], before[node], pods[0].pod.Name)
					}
				}
				if s.relabels != simNodes-len(large) {
					s.fail("%d relabels, want one per small node (%d)", s.relabels, simNodes-len(large))
				}

				// Two small nodes become large: their pods are replaced under the same bounds.
				moved := 0
				for _, n := range s.nodes {
					if !large[n.Name] && moved < 2 {
						n.Labels[instanceType] = "m7i.8xlarge"
						moved++
					}
				}
				s.logf("two small nodes relabelled to m7i.8xlarge")
				s.runUntil("moved nodes replaced", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)
			})
		}
	}
}

// In-place image updates: an image-only change patches every pod (no pod is created or deleted after the initial
// ones), never with more nodes unavailable than maxUnavailable, counting a patched pod unavailable until the
// simulated kubelet restarted it; a later change beyond the image recreates the pods.
func TestSimulationInPlaceImageUpdate(t *testing.T) {
	inPlace := rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
		ru.PodUpdatePolicy = v1alpha1.InPlaceIfPossiblePodUpdatePolicy
	})
	for _, mu := range []int{1, 2} {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("maxUnavailable %d/seed %d", mu, seed), func(t *testing.T) {
				s := newSim(t, seed, simNodes, maxUnavailable(fmt.Sprint(mu)), inPlace)
				s.bounds = bounds{}
				s.startRollout()
				names := s.sortedPodNames()
				s.bounds = bounds{rollout: true, maxUnavailable: mu}
				s.runUntil("in-place rollout complete", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)
				if got := s.sortedPodNames(); fmt.Sprint(got) != fmt.Sprint(names) {
					t.Fatalf("pods %v after the in-place rollout, want the same pods %v", got, names)
				}

				// Rolled on while pods wait for the kubelet to restart them: those are recreated, the rest patched,
				// within the bounds all along.
				s.changeTemplate("agent:3")
				s.runUntil("a pod restarting in place", 4000, func() bool {
					for _, p := range s.pods {
						if p.inPlace && p.pod.DeletionTimestamp == nil {
							return true
						}
					}
					return false
				})
				// These pods' kubelet is slow to restart them: they are still pending when the planner sees the next
				// revision, which must recreate them (reconcile fails the test if a pass patches one of them again).
				var restarting []string
				for _, name := range s.sortedPodNames() {
					if p := s.pods[name]; p.inPlace && p.pod.DeletionTimestamp == nil {
						restarting = append(restarting, name)
						p.restartedAt = s.now.Add(24 * time.Hour)
					}
				}
				s.changeTemplate("agent:4")
				s.runUntil("in-place rollout over a rollout complete", 4000, s.converged(simNodes))
				for _, name := range restarting {
					if !s.deleted[name] {
						t.Fatalf("pod %s, still restarting from its last in-place update, was not recreated", name)
					}
				}

				s.set.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
				s.changeTemplate("agent:5")
				s.runUntil("recreating rollout complete", 4000, s.converged(simNodes))
				for _, name := range s.sortedPodNames() {
					for _, old := range names {
						if name == old {
							t.Fatalf("pod %s survived a change beyond the image", name)
						}
					}
				}
			})
		}
	}
}

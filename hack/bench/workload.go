package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// The two controllers under test.
const (
	upstream     = "upstream"
	nodeAgentSet = "nodeagentset"
)

// Labels on every pod template of a turn: turnLabel selects a turn's pods, setLabel one set's.
const (
	turnLabel = "bench.nodeagentset.io/turn"
	setLabel  = "bench.nodeagentset.io/set"
	namespace = "default"
	imageV1   = "registry.example/bench-agent:v1"
	imageV2   = "registry.example/bench-agent:v2"
)

var (
	daemonSetGVR    = appsv1.SchemeGroupVersion.WithResource("daemonsets")
	nodeAgentSetGVR = v1alpha1.GroupVersion.WithResource("nodeagentsets")
)

func gvrFor(controller string) schema.GroupVersionResource {
	if controller == upstream {
		return daemonSetGVR
	}
	return nodeAgentSetGVR
}

// template is the pod template both controllers get: one container, no grace period, as the upstream integration
// tests' DaemonSets.
func template(turn, set string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{turnLabel: turn, setLabel: set}},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{{Name: "agent", Image: imageV1}},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}
}

// rollingMaxUnavailable is the sets' maxUnavailable.
const rollingMaxUnavailable = "10%"

// rollingBudget is how many pods of one set a rolling update over the given number of nodes has in flight at a time:
// maxUnavailable of the nodes, rounded up as both controllers round it.
func rollingBudget(nodes int) (int, error) {
	v := intstr.FromString(rollingMaxUnavailable)
	return intstr.GetScaledValueFromIntOrPercent(&v, nodes, true)
}

// newSet builds the set for controller: a DaemonSet or a NodeAgentSet, RollingUpdate with maxUnavailable 10% (and
// for a NodeAgentSet the given podUpdatePolicy).
func newSet(controller, turn, name string, policy v1alpha1.PodUpdatePolicyType) (*unstructured.Unstructured, error) {
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{turnLabel: turn, setLabel: name}}
	maxUnavailable := intstr.FromString(rollingMaxUnavailable)
	meta := metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{turnLabel: turn}}
	var obj runtime.Object
	if controller == upstream {
		obj = &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{
				Selector: selector,
				Template: template(turn, name),
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
					Type:          appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable},
				},
			},
		}
	} else {
		maxSurge := intstr.FromInt32(0)
		obj = &v1alpha1.NodeAgentSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "NodeAgentSet"},
			ObjectMeta: meta,
			Spec: v1alpha1.NodeAgentSetSpec{
				Selector: selector,
				Template: template(turn, name),
				UpdateStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
					Type: v1alpha1.RollingUpdateStrategyType,
					RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{
						MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge, PodUpdatePolicy: policy,
					},
				},
			},
		}
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: raw}, nil
}

func toUnstructured(obj map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: obj}
}

// imagePatch is a JSON patch that sets the first container's image.
func imagePatch(image string) []byte {
	raw, _ := json.Marshal([]map[string]any{{
		"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image,
	}})
	return raw
}

// podTracker follows a turn's pods through an informer and keeps the tallies the phase goals are stated in,
// updated per event rather than recounted: at 5000 pods a recount per event would cost the bench more CPU than
// the controllers it measures.
type podTracker struct {
	mu       sync.Mutex
	want     string // the image a pod needs to count as done
	views    map[types.UID]podView
	good     map[string]int // per set/node: pods Ready, not terminating, with the wanted image
	goodKeys int            // set/node pairs with at least one good pod
	stale    int            // pods not terminating whose image is not the wanted one
	waiting  int            // pods not terminating that have the wanted image but are not good yet
	changed  chan struct{}
	store    cache.Store
	stop     chan struct{}

	// Since the phase began: when the first and the last new pod showed up.
	phaseStart        time.Time
	firstNew, lastNew time.Duration
	lastBound         time.Duration // when a pod was last seen bound to its node for the first time
	timeline          []timelineSample
	// Per pod since the phase began: when it was first seen waiting (asking for the wanted image without running it
	// Ready), and how long each such pod took from there to good, so a rollout's time splits into what the pods'
	// starts and restarts take and what the controller adds between them.
	waitingSince map[types.UID]time.Duration
	turnarounds  []time.Duration
	// When, since the phase began, each pod started waiting and each waiting pod turned good, in the order seen.
	waitStarts, goodAts []time.Duration
}

// timelineSample is the tallies at the end of one timelineStep of a phase, so two controllers' phases can be
// compared step by step (where one falls behind the other), not only by their end.
type timelineSample struct {
	Seconds float64 `json:"s"`
	Done    int     `json:"done"`  // set/node pairs with a Ready pod of the wanted image
	Stale   int     `json:"stale"` // pods not terminating with another image
	// Waiting is pods not terminating with the wanted image that do not run it Ready yet: being started, or (in
	// place) restarting; in a rolling update, what the controller's budget has in flight.
	Waiting int `json:"waiting"`
	Pods    int `json:"pods"` // pods in all, terminating ones included
}

const timelineStep = 500 * time.Millisecond

// sampleTimeline records the tallies as they were before this event if the event starts a new step. Call with
// t.mu held.
func (t *podTracker) sampleTimeline() {
	if t.phaseStart.IsZero() {
		return
	}
	step := time.Since(t.phaseStart) / timelineStep
	for len(t.timeline) < int(step) {
		t.timeline = append(t.timeline, timelineSample{
			Seconds: (time.Duration(len(t.timeline)+1) * timelineStep).Seconds(),
			Done:    t.goodKeys, Stale: t.stale, Waiting: t.waiting, Pods: len(t.views),
		})
	}
}

type podView struct {
	key     string
	good    bool
	stale   bool
	waiting bool
	bound   bool
}

func (t *podTracker) viewOf(p *corev1.Pod) podView {
	v := podView{key: p.Labels[setLabel] + "/" + p.Spec.NodeName}
	terminating := p.DeletionTimestamp != nil
	image := ""
	if len(p.Spec.Containers) > 0 {
		image = p.Spec.Containers[0].Image
	}
	v.stale = !terminating && image != t.want
	v.bound = p.Spec.NodeName != ""
	// A pod updated in place asks for the wanted image before it runs it: it is good once its container status
	// shows the wanted image (a recreated pod's first status already does).
	running := len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].Image == t.want
	v.good = !terminating && image == t.want && p.Spec.NodeName != "" && running && podReady(p)
	v.waiting = !terminating && image == t.want && !v.good
	return v
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// account removes old (if any) from the tallies and adds new (if any). Call with t.mu held.
func (t *podTracker) account(uid types.UID, next *podView) {
	if old, ok := t.views[uid]; ok {
		if old.good {
			t.good[old.key]--
			if t.good[old.key] == 0 {
				delete(t.good, old.key)
				t.goodKeys--
			}
		}
		if old.stale {
			t.stale--
		}
		if old.waiting {
			t.waiting--
		}
		delete(t.views, uid)
	}
	if next == nil {
		return
	}
	if next.good {
		t.good[next.key]++
		if t.good[next.key] == 1 {
			t.goodKeys++
		}
	}
	if next.stale {
		t.stale++
	}
	if next.waiting {
		t.waiting++
	}
	t.views[uid] = *next
}

func (t *podTracker) observe(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	t.mu.Lock()
	t.sampleTimeline()
	if deleted {
		t.account(p.UID, nil)
	} else {
		if _, known := t.views[p.UID]; !known && !t.phaseStart.IsZero() {
			at := time.Since(t.phaseStart)
			if t.firstNew == 0 {
				t.firstNew = at
			}
			t.lastNew = at
		}
		v := t.viewOf(p)
		if !t.phaseStart.IsZero() {
			t.timeTurnaround(p.UID, v)
		}
		if prev, known := t.views[p.UID]; p.Spec.NodeName != "" && (!known || !prev.bound) && !t.phaseStart.IsZero() {
			t.lastBound = time.Since(t.phaseStart)
		}
		t.account(p.UID, &v)
	}
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// setWant changes the image pods need and recounts once from the informer's store.
func (t *podTracker) setWant(image string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.want = image
	t.phaseStart, t.firstNew, t.lastNew, t.lastBound = time.Now(), 0, 0, 0
	t.timeline = nil
	t.waitingSince, t.turnarounds = map[types.UID]time.Duration{}, nil
	t.waitStarts, t.goodAts = nil, nil
	t.views = map[types.UID]podView{}
	t.good = map[string]int{}
	t.goodKeys, t.stale, t.waiting = 0, 0, 0
	for _, obj := range t.store.List() {
		p := obj.(*corev1.Pod)
		v := t.viewOf(p)
		t.account(p.UID, &v)
	}
}

// timeTurnaround notes when pod uid starts waiting and, once it is good, how long that took. Only pods seen waiting
// in this phase count (a pod already good when the phase began has no turnaround in it). Call with t.mu held.
func (t *podTracker) timeTurnaround(uid types.UID, v podView) {
	now := time.Since(t.phaseStart)
	since, waiting := t.waitingSince[uid]
	switch {
	case v.waiting && !waiting:
		t.waitingSince[uid] = now
		t.waitStarts = append(t.waitStarts, now)
	case v.good && waiting:
		t.turnarounds = append(t.turnarounds, now-since)
		t.goodAts = append(t.goodAts, now)
		delete(t.waitingSince, uid)
	}
}

// turnaround sums up the phase's pod turnarounds (see waitingSince) and, for a phase whose pods go budget at a time
// (a rolling update; 0 for none), how long a slot stayed free (slotIdle); zero without any.
func (t *podTracker) turnaround(budget int) podTurnaround {
	t.mu.Lock()
	d := append([]time.Duration(nil), t.turnarounds...)
	waits := append([]time.Duration(nil), t.waitStarts...)
	goods := append([]time.Duration(nil), t.goodAts...)
	t.mu.Unlock()
	if len(d) == 0 {
		return podTurnaround{}
	}
	out := podTurnaround{Pods: len(d), durationStats: statsOf(d)}
	// Every pod that turned good had started waiting, so waits is not empty either.
	out.FirstWaitingSeconds, out.LastWaitingSeconds = slices.Min(waits).Seconds(), slices.Max(waits).Seconds()
	if idle := slotIdle(waits, goods, budget); len(idle) > 0 {
		s := statsOf(idle)
		out.SlotIdle = &s
	}
	return out
}

// slotIdle is how long each slot of a rolling update's budget stayed free: with budget pods in flight at a time, the
// k-th pod to turn good frees the slot the (k+budget)-th pod to start waiting takes, so the time between the two is
// what the controller and the API server add to the pods' own turnarounds (for a pod updated in place: noticing the
// pod Ready, a pass, the next patch; for a recreated one also the old pod's delete and the create). Empty for a
// budget of 0 or fewer pods than the budget.
func slotIdle(waitStarts, goodAts []time.Duration, budget int) []time.Duration {
	if budget <= 0 {
		return nil
	}
	waits, goods := slices.Sorted(slices.Values(waitStarts)), slices.Sorted(slices.Values(goodAts))
	var idle []time.Duration
	for k := 0; k < len(goods) && k+budget < len(waits); k++ {
		idle = append(idle, max(waits[k+budget]-goods[k], 0))
	}
	return idle
}

// statsOf is the mean, median and 90th percentile of d, which must not be empty.
func statsOf(d []time.Duration) durationStats {
	d = slices.Sorted(slices.Values(d))
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return durationStats{MeanSeconds: (sum / time.Duration(len(d))).Seconds(),
		P50Seconds: d[len(d)/2].Seconds(), P90Seconds: d[len(d)*9/10].Seconds()}
}

// podTurnaround sums up how long pods took from asking for the wanted image to running it Ready: for a new pod from
// when it appeared (so it includes scheduling), for a pod updated in place from its patch.
type podTurnaround struct {
	Pods int `json:"pods"`
	durationStats
	// FirstWaitingSeconds and LastWaitingSeconds are when, since the phase began, the first and the last pod started
	// waiting: the controller's start, and where the last pods' turnarounds begin.
	FirstWaitingSeconds float64 `json:"firstWaitingSeconds"`
	LastWaitingSeconds  float64 `json:"lastWaitingSeconds"`
	// SlotIdle is how long a slot of the rollout's budget stayed free (slotIdle); nil outside a rolling update.
	SlotIdle *durationStats `json:"slotIdle,omitempty"`
}

// durationStats sums up durations, in seconds.
type durationStats struct {
	MeanSeconds float64 `json:"meanSeconds"`
	P50Seconds  float64 `json:"p50Seconds"`
	P90Seconds  float64 `json:"p90Seconds"`
}

// phaseTimeline is the tallies per timelineStep since the phase began, up to now.
func (t *podTracker) phaseTimeline() []timelineSample {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sampleTimeline()
	return append([]timelineSample(nil), t.timeline...)
}

// newPods is when, since the phase began, the first and the last pod new in the phase appeared.
func (t *podTracker) newPods() (first, last, lastBound time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firstNew, t.lastNew, t.lastBound
}

func (t *podTracker) tallies() (goodKeys, stale, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.goodKeys, t.stale, len(t.views)
}

// startPodTracker starts an informer on the turn's pods.
func (c *cluster) startPodTracker(ctx context.Context, turn string) (*podTracker, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(c.kube, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = turnLabel + "=" + turn }))
	inf := factory.Core().V1().Pods().Informer()
	t := &podTracker{
		want: imageV1, views: map[types.UID]podView{}, good: map[string]int{},
		changed: make(chan struct{}, 1), store: inf.GetStore(), stop: make(chan struct{}),
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { t.observe(o, false) },
		UpdateFunc: func(_, o any) { t.observe(o, false) },
		DeleteFunc: func(o any) { t.observe(o, true) },
	}); err != nil {
		return nil, err
	}
	factory.Start(t.stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		close(t.stop)
		return nil, fmt.Errorf("pod informer did not sync: %w", ctx.Err())
	}
	return t, nil
}

// waitUntil blocks until cond holds on the tallies, the controller exits, or ctx ends.
func (t *podTracker) waitUntil(ctx context.Context, ctl *process, what string, cond func(goodKeys, stale, total int) bool) error {
	for {
		g, s, n := t.tallies()
		if cond(g, s, n) {
			return nil
		}
		select {
		case <-t.changed:
		case <-ctl.exited:
			return fmt.Errorf("%s exited while waiting for %s: %v\n%s", ctl.name, what, ctl.err, ctl.tail(30))
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (pods: %d set/node pairs done, %d stale, %d in all): %w", what, g, s, n, ctx.Err())
		}
	}
}

// setStatusTracker follows a turn's sets and reports when each one's status says the set is settled: the
// controller saw the latest spec and counts every node as updated and available. The wall time of a phase is what
// the pods show; the status catching up is when the controller's work for the phase is over, so CPU is read then.
type setStatusTracker struct {
	store   cache.Store
	changed chan struct{}
	stop    chan struct{}
}

func (c *cluster) startSetTracker(ctx context.Context, controller, turn string) (*setStatusTracker, error) {
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.dyn, 0, namespace,
		func(o *metav1.ListOptions) { o.LabelSelector = turnLabel + "=" + turn })
	inf := factory.ForResource(gvrFor(controller)).Informer()
	t := &setStatusTracker{store: inf.GetStore(), changed: make(chan struct{}, 1), stop: make(chan struct{})}
	poke := func(any) {
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke,
	}); err != nil {
		return nil, err
	}
	factory.Start(t.stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		close(t.stop)
		return nil, fmt.Errorf("set informer did not sync: %w", ctx.Err())
	}
	return t, nil
}

func (t *setStatusTracker) settled(sets, nodes int) bool {
	objs := t.store.List()
	if len(objs) != sets {
		return false
	}
	for _, o := range objs {
		u := o.(*unstructured.Unstructured)
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		if observed < u.GetGeneration() {
			return false
		}
		for _, f := range []string{"desiredNumberScheduled", "updatedNumberScheduled", "numberAvailable", "numberReady"} {
			v, _, _ := unstructured.NestedInt64(u.Object, "status", f)
			if v != int64(nodes) {
				return false
			}
		}
	}
	return true
}

// waitSettled waits until the sets' status is settled, for at most limit; it reports whether it was.
func (t *setStatusTracker) waitSettled(ctx context.Context, sets, nodes int, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for !t.settled(sets, nodes) {
		select {
		case <-t.changed:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

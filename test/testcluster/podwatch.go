package testcluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// PodEventType says what happened to a pod.
type PodEventType string

// Pod event types.
const (
	PodAdded    PodEventType = "Added"
	PodModified PodEventType = "Modified"
	PodDeleted  PodEventType = "Deleted"
	// PodsSynced is the first check, on the initial state, once every existing pod has been seen; its Pod is nil.
	PodsSynced PodEventType = "Synced"
)

// PodEvent is one change a PodWatch saw, with the time the harness received it. Pod is nil for PodsSynced.
type PodEvent struct {
	Type PodEventType
	Pod  *corev1.Pod
	At   time.Time
}

// PodCheck inspects the namespace's pods after an event (pods is the state after it, sorted by node and name) and
// returns the invariants that do not hold.
type PodCheck func(ev PodEvent, pods []corev1.Pod) []string

// PodWatch follows a namespace's pods event by event, in the API server's order, and runs a check on every state
// it passes through: bounds that must hold throughout a rollout (never more than maxUnavailable nodes down, never
// more than maxSurge extra pods) are asserted on each intermediate state, not just sampled.
type PodWatch struct {
	cancel context.CancelFunc

	mu         sync.Mutex
	pods       map[types.UID]*corev1.Pod
	check      PodCheck
	armed      bool // checks run only once the initial pods are all in, so a half-listed state is never judged
	events     int
	violations []string
}

// maxRecordedViolations keeps a broken rollout's report readable.
const maxRecordedViolations = 20

// WatchPods starts a PodWatch on the namespace; the initial pods arrive as Added events.
func (c *Cluster) WatchPods(ctx context.Context, namespace string, check PodCheck) (*PodWatch, error) {
	runCtx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(namespace))
	informer := factory.Core().V1().Pods().Informer()
	w := &PodWatch{cancel: cancel, pods: map[types.UID]*corev1.Pod{}, check: check}
	reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.observe(PodAdded, obj) },
		UpdateFunc: func(_, obj any) { w.observe(PodModified, obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			w.observe(PodDeleted, obj)
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watching pods in %s: %w", namespace, err)
	}
	factory.Start(runCtx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		cancel()
		return nil, fmt.Errorf("pod watch on %s: the initial pods did not arrive", namespace)
	}
	w.mu.Lock()
	w.armed = true
	w.runCheck(PodEvent{Type: PodsSynced, At: time.Now()})
	w.mu.Unlock()
	return w, nil
}

func (w *PodWatch) observe(typ PodEventType, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ev := PodEvent{Type: typ, Pod: pod, At: time.Now()}
	w.mu.Lock()
	defer w.mu.Unlock()
	if typ == PodDeleted {
		delete(w.pods, pod.UID)
	} else {
		w.pods[pod.UID] = pod
	}
	w.events++
	if w.armed {
		w.runCheck(ev)
	}
}

// runCheck judges the current state; w.mu is held.
func (w *PodWatch) runCheck(ev PodEvent) {
	if w.check == nil {
		return
	}
	state := make([]corev1.Pod, 0, len(w.pods))
	for _, p := range w.pods {
		state = append(state, *p)
	}
	SortPods(state)
	for _, v := range w.check(ev, state) {
		if len(w.violations) >= maxRecordedViolations {
			return
		}
		what := string(ev.Type)
		if ev.Pod != nil {
			what = fmt.Sprintf("%s %s on %q", ev.Type, ev.Pod.Name, ev.Pod.Spec.NodeName)
		}
		w.violations = append(w.violations, fmt.Sprintf("after event %d (%s): %s", w.events, what, v))
	}
}

// Violations are the check failures seen so far.
func (w *PodWatch) Violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.violations...)
}

// Events is how many pod events the watch has processed.
func (w *PodWatch) Events() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events
}

// Stop ends the watch.
func (w *PodWatch) Stop() { w.cancel() }

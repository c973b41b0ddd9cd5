package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// defaultPassSpacing is the least time between the starts of two passes of one set that pod events ask for.
//
// Why: a set's pods change far more often than its plan does. While 1000 pods turn Ready one after the other, every
// Ready transition queued a pass, and a pass reads every pod of the set and writes the status with one more Ready
// pod: about 100 passes and 100 status writes in the five seconds after a 1000-node set's last create, where a
// pass every quarter second plans the same creates and deletes and writes the same final status (docs/benchmarks.md).
// Why a quarter second: in a rolling update a node waits for a pass twice per replacement (to get its new pod once
// the old one is gone, and to let the next node go once its new pod is available), so the spacing lengthens the
// rollout; at 1000 nodes 500ms made it 10% slower than upstream's, 250ms as fast, and 100ms cost 20% more CPU with
// no faster rollout (docs/benchmarks.md, "Pass spacing").
// Nothing is lost by waiting: a pass reads the cache as it is when it runs, so the events it was queued for are all
// in it. The first event after a quiet spell still queues a pass at once, so a set whose pods change now and then
// (a rollout of one node at a time, a node joining) is handled as soon as before.
const defaultPassSpacing = 250 * time.Millisecond

// spacer spaces one kind of event per set: at most one per spacing, the first at once. The reconciler keeps two,
// one for the passes that pod events queue and one for status writes that only move counts
// (defaultStatusSpacing). It holds only when each set's last such event happened. That is not a decision input:
// after a restart every set is simply passed, and its status written, at once.
type spacer struct {
	clock   clock.PassiveClock
	spacing time.Duration

	mu   sync.Mutex
	last map[types.NamespacedName]time.Time
}

func newSpacer(c clock.PassiveClock, spacing time.Duration) *spacer {
	return &spacer{clock: c, spacing: spacing, last: map[types.NamespacedName]time.Time{}}
}

// mark records that the spaced event (a pass starting, a status write) of key happens now.
func (p *spacer) mark(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[key] = p.clock.Now()
}

// forget drops key (its set is gone).
func (p *spacer) forget(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.last, key)
}

// delay is how long the next such event of key waits if asked for now: until spacing after the last one, never
// longer than spacing (a clock that went back does not hold a set up).
func (p *spacer) delay(key types.NamespacedName) time.Duration { return p.delayBy(key, p.spacing) }

// delayBy is delay with another spacing.
func (p *spacer) delayBy(key types.NamespacedName, spacing time.Duration) time.Duration {
	if spacing <= 0 {
		return 0
	}
	p.mu.Lock()
	last, ok := p.last[key]
	p.mu.Unlock()
	if !ok {
		return 0
	}
	wait := last.Add(spacing).Sub(p.clock.Now())
	return min(max(wait, 0), spacing)
}

// enqueuePaced queues a pass of the set namespace/name for a pod event, spaced by the pacer.
func (r *NodeAgentSetReconciler) enqueuePaced(q queue, namespace, name string) {
	r.enqueueSpaced(q, namespace, name, r.pacer.spacing)
}

// enqueueSpaced queues a pass of the set namespace/name no sooner than spacing after its last pass started.
func (r *NodeAgentSetReconciler) enqueueSpaced(q queue, namespace, name string, spacing time.Duration) {
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}
	if wait := r.pacer.delayBy(req.NamespacedName, spacing); wait > 0 {
		// The work queue keeps the earliest time a key is due, so a burst of events still yields one pass.
		q.AddAfter(req, wait)
		return
	}
	q.Add(req)
}

// promptSpacingDivisor: the pass a freed slot asks for (enqueueForFreedSlot) is spaced by a fifth of the pass
// spacing, so pods that terminate or turn ready one after the other (graceful deletes as each kubelet finishes,
// restarts) cost at most one pass per 50 ms rather than one each.
const promptSpacingDivisor = 5

// enqueueForFreedSlot queues a pass of the set namespace/name for a pod event that frees what a rolling update waits
// for, while nothing the set wrote is still on its way: a pod of the set that left the cache (its node is free for
// the replacement), or, during a rollout with minReadySeconds 0, a pod of the set that became ready (it no longer
// counts against maxUnavailable, so the next old pod may go). The pass is spaced by a fifth of the pass spacing, not
// the whole, unless the pod writer waited for its client rate limit within the spacing.
//
// Why: each replaced node of a rolling update waits for a pass twice, to get its new pod once the old one is gone
// and, once the new one is available, for the next node's old pod to go (or be patched in place). Paced, each of
// those passes came up to a quarter second after its event (an eighth on average) where the DaemonSet controller
// syncs on every event. At QPS 5000 (kwok pods starting in 0.5 to 1.5 s) the 1000-node Recreate rollout took 1.07
// to 1.10 of the DaemonSet's time with both passes paced; with the pod-gone one prompt, 0.98 and 1.02 on the
// machine of 2026-12-04 and 1.06 to 1.10 on that of 2026-12-07, where both prompt gave 0.92 to 1.05; the in-place
// rollout at QPS 100 went from 0.66 to 0.56 to 0.60 (docs/benchmarks.md). While the client rate is what paces the
// rollout (a 1000-node Recreate rollout at QPS 100), a pass sooner cannot write sooner and would only cost CPU, so
// such events stay paced. With minReadySeconds above 0 a pod turns available later than ready, and the planner's
// requeue for that moment is the pass that uses it.
func (r *NodeAgentSetReconciler) enqueueForFreedSlot(q queue, namespace, name string) {
	spacing := r.pacer.spacing
	if !r.writeRate.waitedWithin(spacing) {
		spacing /= promptSpacingDivisor
	}
	r.enqueueSpaced(q, namespace, name, spacing)
}

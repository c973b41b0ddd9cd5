package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// Failed pods are replaced with a per-node exponential backoff, as upstream: a crash-looping agent on one node must
// not turn into a create/delete storm against the API server.
const (
	failedPodBackoffInitial = time.Second
	failedPodBackoffMax     = 15 * time.Minute
)

// failedPodBackoff is the per set-and-node backoff for replacing failed pods.
type failedPodBackoff struct {
	backoff *flowcontrol.Backoff
}

func newFailedPodBackoff(c clock.Clock) *failedPodBackoff {
	b := flowcontrol.NewBackOff(failedPodBackoffInitial, failedPodBackoffMax)
	b.Clock = c
	return &failedPodBackoff{backoff: b}
}

func backoffKey(set types.NamespacedName, node string) string {
	return set.Namespace + "/" + set.Name + "/" + node
}

// Next advances the backoff of set on node: a failed pod there is being deleted now.
func (f *failedPodBackoff) Next(set types.NamespacedName, node string, now time.Time) {
	f.backoff.Next(backoffKey(set, node), now)
}

// GC drops entries that have not moved for twice the maximum backoff.
func (f *failedPodBackoff) GC() { f.backoff.GC() }

// viewFor gives the planner a read-only view of one set's backoff.
func (f *failedPodBackoff) viewFor(set types.NamespacedName) setBackoffView {
	return setBackoffView{backoff: f.backoff, set: set}
}

// setBackoffView implements planner.BackoffView for one set.
type setBackoffView struct {
	backoff *flowcontrol.Backoff
	set     types.NamespacedName
}

func (v setBackoffView) InBackoff(node string, now time.Time) (bool, time.Duration) {
	key := backoffKey(v.set, node)
	if !v.backoff.IsInBackOffSinceUpdate(key, now) {
		return false, 0
	}
	return true, v.backoff.Get(key)
}

package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// expectationsTimeout bounds how long a set waits for its own writes to reach the cache. Past it the controller acts
// again on what it sees, as upstream does, so a lost watch event cannot wedge a set forever.
const expectationsTimeout = 5 * time.Minute

// expectations remembers, per set, the pod creates (by node), deletes (by pod UID) and in-place updates (by pod UID,
// with the revision hash the pod moves to) the controller issued and has not yet observed through the cache. While
// any are pending the set's plan carries no actions: a pod created a moment ago but not yet in the cache would
// otherwise look missing and be created twice, and a pod updated in place but still cached with its old revision
// would look like a candidate again and use the rollout's budget twice.
type expectations struct {
	clock clock.PassiveClock

	mu    sync.Mutex
	bySet map[types.NamespacedName]*setExpectations
}

type setExpectations struct {
	creates   map[string]int       // node name -> creates not yet observed
	deletes   map[types.UID]bool   // pod UIDs whose deletion is not yet observed
	updates   map[types.UID]string // pod UIDs updated in place -> the revision hash the cache must show
	updatedAt time.Time            // when the last expectation was raised
}

func newExpectations(c clock.PassiveClock) *expectations {
	return &expectations{clock: c, bySet: map[types.NamespacedName]*setExpectations{}}
}

func (e *expectations) entry(set types.NamespacedName) *setExpectations {
	x, ok := e.bySet[set]
	if !ok {
		x = &setExpectations{creates: map[string]int{}, deletes: map[types.UID]bool{}, updates: map[types.UID]string{}}
		e.bySet[set] = x
	}
	return x
}

// ExpectCreate records that a pod for node is being created.
func (e *expectations) ExpectCreate(set types.NamespacedName, node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.entry(set)
	x.creates[node]++
	x.updatedAt = e.clock.Now()
}

// CreateObserved lowers the create expectation for node: the pod arrived in the cache, or its create failed.
func (e *expectations) CreateObserved(set types.NamespacedName, node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.bySet[set]
	if !ok || x.creates[node] == 0 {
		return
	}
	if x.creates[node]--; x.creates[node] == 0 {
		delete(x.creates, node)
	}
}

// ExpectDelete records that pod uid is being deleted.
func (e *expectations) ExpectDelete(set types.NamespacedName, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.entry(set)
	x.deletes[uid] = true
	x.updatedAt = e.clock.Now()
}

// DeleteObserved clears the delete expectation for uid: the pod left the cache, or its delete failed.
func (e *expectations) DeleteObserved(set types.NamespacedName, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.bySet[set]; ok {
		delete(x.deletes, uid)
	}
}

// ExpectUpdate records that pod uid is being moved to the revision with hash.
func (e *expectations) ExpectUpdate(set types.NamespacedName, uid types.UID, hash string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.entry(set)
	x.updates[uid] = hash
	x.updatedAt = e.clock.Now()
}

// UpdateObserved clears the update expectation for uid once the cache shows the pod with hash (or the pod is gone,
// or its update failed: pass the expected hash then).
func (e *expectations) UpdateObserved(set types.NamespacedName, uid types.UID, hash string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.bySet[set]; ok && x.updates[uid] == hash {
		delete(x.updates, uid)
	}
}

// PodGone clears every expectation about pod uid: it left the cache.
func (e *expectations) PodGone(set types.NamespacedName, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.bySet[set]; ok {
		delete(x.deletes, uid)
		delete(x.updates, uid)
	}
}

// Satisfied reports whether every issued write was observed, or the oldest pending one timed out.
func (e *expectations) Satisfied(set types.NamespacedName) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.bySet[set]
	if !ok || (len(x.creates) == 0 && len(x.deletes) == 0 && len(x.updates) == 0) {
		return true
	}
	if e.clock.Since(x.updatedAt) > expectationsTimeout {
		delete(e.bySet, set)
		return true
	}
	return false
}

// Forget drops everything about a set that no longer exists.
func (e *expectations) Forget(set types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.bySet, set)
}

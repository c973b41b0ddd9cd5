package controller

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// Event budget per object and event type, as the upstream controllers' recorder (client-go tools/record) spends
// it: a burst of 25, then one event per five minutes. A rollout on thousands of nodes thus writes a few dozen
// events per set, not two per pod; at 1000 nodes the events were a quarter of the controller's API writes.
const (
	eventBurst      = 25
	eventRefill     = 5 * time.Minute
	eventBudgetKeep = 4096 // budgets tracked at once; full ones are dropped first when more are needed
)

// budgetedRecorder passes an event on only while its regarding object has budget left for the event's type.
type budgetedRecorder struct {
	next  recorder.EventRecorder
	clock clock.PassiveClock

	mu      sync.Mutex
	budgets map[eventBudgetKey]*rate.Limiter
}

type eventBudgetKey struct {
	uid       types.UID
	namespace string
	name      string
	eventType string
}

var _ recorder.EventRecorder = &budgetedRecorder{}

func newBudgetedRecorder(next recorder.EventRecorder, c clock.PassiveClock) *budgetedRecorder {
	return &budgetedRecorder{next: next, clock: c, budgets: map[eventBudgetKey]*rate.Limiter{}}
}

func (r *budgetedRecorder) allow(regarding runtime.Object, eventType string) bool {
	obj, err := meta.Accessor(regarding)
	if err != nil {
		return true
	}
	key := eventBudgetKey{uid: obj.GetUID(), namespace: obj.GetNamespace(), name: obj.GetName(), eventType: eventType}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	budget, ok := r.budgets[key]
	if !ok {
		if len(r.budgets) >= eventBudgetKeep {
			r.dropFull(now)
		}
		budget = rate.NewLimiter(rate.Every(eventRefill), eventBurst)
		r.budgets[key] = budget
	}
	return budget.AllowN(now, 1)
}

// dropFull forgets the budgets that have refilled completely: a new budget would be the same. If every budget is
// in use the map is cleared, which errs on the side of sending events.
func (r *budgetedRecorder) dropFull(now time.Time) {
	for k, b := range r.budgets {
		if b.TokensAt(now) >= eventBurst {
			delete(r.budgets, k)
		}
	}
	if len(r.budgets) >= eventBudgetKeep {
		clear(r.budgets)
	}
}

func (r *budgetedRecorder) Eventf(regarding, related runtime.Object, eventType, reason, action, note string, args ...any) {
	if r.allow(regarding, eventType) {
		r.next.Eventf(regarding, related, eventType, reason, action, note, args...)
	}
}

func (r *budgetedRecorder) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, eventType, reason, action, note string, args ...any) {
	if r.allow(regarding, eventType) {
		r.next.AnnotatedEventf(regarding, related, annotations, eventType, reason, action, note, args...)
	}
}

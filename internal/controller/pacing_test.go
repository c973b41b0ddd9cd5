package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestPassPacerDelay(t *testing.T) {
	start := time.Unix(1000, 0)
	set := types.NamespacedName{Namespace: "ns", Name: "agent"}
	other := types.NamespacedName{Namespace: "ns", Name: "other"}
	tests := []struct {
		name    string
		spacing time.Duration
		started bool          // a pass of set started at start
		elapsed time.Duration // clock moved this far after start (negative: back)
		forget  bool
		key     types.NamespacedName
		want    time.Duration
	}{
		{name: "never passed: at once", spacing: time.Second, key: set, want: 0},
		{name: "just passed: a whole spacing", spacing: time.Second, started: true, key: set, want: time.Second},
		{name: "passed a while ago: the rest of the spacing", spacing: time.Second, started: true, elapsed: 300 * time.Millisecond, key: set, want: 700 * time.Millisecond},
		{name: "passed a spacing ago: at once", spacing: time.Second, started: true, elapsed: time.Second, key: set, want: 0},
		{name: "passed long ago: at once", spacing: time.Second, started: true, elapsed: time.Hour, key: set, want: 0},
		{name: "clock went back: no more than a spacing", spacing: time.Second, started: true, elapsed: -time.Hour, key: set, want: time.Second},
		{name: "another set's pass holds nothing up", spacing: time.Second, started: true, key: other, want: 0},
		{name: "a forgotten set: at once", spacing: time.Second, started: true, forget: true, key: set, want: 0},
		{name: "pacing off", spacing: -1, started: true, key: set, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(start)
			p := newSpacer(clk, tt.spacing)
			if tt.started {
				p.mark(set)
			}
			if tt.forget {
				p.forget(set)
			}
			clk.SetTime(start.Add(tt.elapsed))
			if got := p.delay(tt.key); got != tt.want {
				t.Fatalf("delay = %v, want %v", got, tt.want)
			}
		})
	}
}

// A burst of pod events after a pass asks for passes all due when the spacing since the pass's start is over (the
// work queue keeps one entry a key, with the earliest due time, so they are one pass); the first event after a
// quiet spell asks for one at once. The delays are read from a recording queue (see there why).
func TestEnqueuePacedDelays(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	r := &NodeAgentSetReconciler{pacer: newSpacer(clk, 500*time.Millisecond)}
	key := types.NamespacedName{Namespace: "ns", Name: "agent"}

	q := &recordingQueue{}
	r.enqueuePaced(q, "ns", "agent")
	q.expectOne(t, key, 0)

	r.pacer.mark(key)
	q = &recordingQueue{}
	var want []queuedPass
	for i := range 100 {
		clk.Step(time.Millisecond)
		r.enqueuePaced(q, "ns", "agent")
		want = append(want, queuedPass{key: key, after: 500*time.Millisecond - time.Duration(i+1)*time.Millisecond})
	}
	if len(q.queued) != len(want) {
		t.Fatalf("100 events within the spacing queued %d passes, want 100 (the work queue merges them)", len(q.queued))
	}
	for i := range want {
		if q.queued[i] != want[i] {
			t.Fatalf("event %d, %dms after the pass started: queued %+v, want %+v (due when the 500ms spacing is over)",
				i+1, i+1, q.queued[i], want[i])
		}
	}

	clk.Step(400 * time.Millisecond) // the spacing is over
	q = &recordingQueue{}
	r.enqueuePaced(q, "ns", "agent")
	q.expectOne(t, key, 0)
}

// scriptedLimiter is a client rate limiter whose tokens the test hands out: TryAccept takes one if any is left.
// A stub rather than client-go's token bucket, whose Wait sleeps on the real clock.
type scriptedLimiter struct {
	tokens int
	waits  int
}

func (l *scriptedLimiter) TryAccept() bool {
	if l.tokens > 0 {
		l.tokens--
		return true
	}
	return false
}
func (l *scriptedLimiter) Accept()                    { l.waits++ }
func (l *scriptedLimiter) Stop()                      {}
func (l *scriptedLimiter) QPS() float32               { return 1 }
func (l *scriptedLimiter) Wait(context.Context) error { l.waits++; return nil }

func TestWatchedRateLimiter(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	inner := &scriptedLimiter{tokens: 2}
	w := &watchedRateLimiter{RateLimiter: inner, clock: clk}
	ctx := context.Background()

	for range 2 {
		if err := w.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if inner.waits != 0 || w.waitedWithin(time.Hour) {
		t.Fatalf("with tokens free: %d waits, waitedWithin(1h) %v; want none", inner.waits, w.waitedWithin(time.Hour))
	}
	if err := w.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if inner.waits != 1 || !w.waitedWithin(time.Millisecond) {
		t.Fatalf("out of tokens: %d waits, waitedWithin(1ms) %v; want the wait noted", inner.waits, w.waitedWithin(time.Millisecond))
	}
	clk.Step(250 * time.Millisecond)
	if w.waitedWithin(250*time.Millisecond) || !w.waitedWithin(251*time.Millisecond) {
		t.Fatal("a wait 250ms ago: want it outside 250ms and inside 251ms")
	}
	w.Accept()
	if inner.waits != 2 || !w.waitedWithin(time.Millisecond) {
		t.Fatalf("Accept out of tokens: %d waits; want the wait noted", inner.waits)
	}
	var none *watchedRateLimiter
	if none.waitedWithin(time.Hour) {
		t.Fatal("no limiter: never waited")
	}
}

// The pass a freed slot asks for (a pod gone, a pod of a rolling set turned ready) comes within a fifth of the
// spacing after the last pass started while the pod writer gets its tokens at once, and paced as any pod event's
// while the writer waits for its rate limit.
func TestEnqueueForFreedSlot(t *testing.T) {
	tests := []struct {
		name       string
		sincePass  time.Duration // the set's last pass started this long ago
		waitedAgo  time.Duration // the writer last waited this long ago; 0 for never
		wantAtOnce bool
	}{
		{name: "a fifth of the spacing after the pass, the writer never waited", sincePass: 100 * time.Millisecond, wantAtOnce: true},
		{name: "right after the pass: held for the fifth", sincePass: 10 * time.Millisecond},
		{name: "the writer waited within the spacing: paced", sincePass: 100 * time.Millisecond, waitedAgo: 100 * time.Millisecond},
		{name: "the writer waited before the spacing", sincePass: 100 * time.Millisecond, waitedAgo: time.Second, wantAtOnce: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(time.Unix(1000, 0))
			q := &recordingQueue{}
			r := &NodeAgentSetReconciler{pacer: newSpacer(clk, 500*time.Millisecond),
				writeRate: &watchedRateLimiter{RateLimiter: &scriptedLimiter{}, clock: clk}}
			r.pacer.mark(types.NamespacedName{Namespace: "ns", Name: "agent"})
			clk.Step(tt.sincePass)
			if tt.waitedAgo > 0 {
				r.writeRate.lastWait.Store(clk.Now().Add(-tt.waitedAgo).UnixNano())
			}
			r.enqueueForFreedSlot(q, "ns", "agent")
			// Due at the fifth (100ms after the pass) when prompt, at the whole spacing (500ms) when paced.
			var due time.Duration
			switch {
			case tt.wantAtOnce:
			case tt.waitedAgo > 0:
				due = 500*time.Millisecond - tt.sincePass
			default:
				due = 100*time.Millisecond - tt.sincePass
			}
			q.expectOne(t, types.NamespacedName{Namespace: "ns", Name: "agent"}, due)
		})
	}
}

// The pod writer's watched limiter is the one client-go would have built from the configuration.
func TestRateLimiterOf(t *testing.T) {
	own := &scriptedLimiter{}
	tests := []struct {
		name      string
		cfg       rest.Config
		wantNil   bool
		wantOwn   bool
		wantQPS   float32
		wantBurst int
	}{
		{name: "QPS and burst", cfg: rest.Config{QPS: 100, Burst: 200}, wantQPS: 100, wantBurst: 200},
		{name: "zero values: client-go's defaults", cfg: rest.Config{}, wantQPS: rest.DefaultQPS, wantBurst: rest.DefaultBurst},
		{name: "a negative QPS: no limit", cfg: rest.Config{QPS: -1}, wantNil: true},
		{name: "the configuration's own limiter", cfg: rest.Config{RateLimiter: own, QPS: 100}, wantOwn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rateLimiterOf(&tt.cfg)
			switch {
			case tt.wantNil:
				if got != nil {
					t.Fatalf("limiter %v, want none", got)
				}
			case tt.wantOwn:
				if got != own {
					t.Fatalf("limiter %v, want the configuration's own", got)
				}
			default:
				if got == nil || got.QPS() != tt.wantQPS {
					t.Fatalf("limiter %v, want QPS %v", got, tt.wantQPS)
				}
				accepted := 0
				for got.TryAccept() {
					accepted++
				}
				if accepted != tt.wantBurst {
					t.Fatalf("burst %d, want %d", accepted, tt.wantBurst)
				}
			}
		})
	}
}

// recordingQueue notes every pass queued and how long it was to wait, so a test reads the delay a handler chose
// directly. A delaying queue on a fake clock hands its items over on its own goroutine, so a check that nothing is
// queued yet a millisecond before the due time passes whether or not the item was due earlier.
type recordingQueue struct {
	// The embedded interface is nil: the code under test only calls Add and AddAfter.
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	queued []queuedPass
}

type queuedPass struct {
	key   types.NamespacedName
	after time.Duration // 0: at once
}

func (q *recordingQueue) Add(item reconcile.Request) {
	q.queued = append(q.queued, queuedPass{key: item.NamespacedName})
}

func (q *recordingQueue) AddAfter(item reconcile.Request, d time.Duration) {
	q.queued = append(q.queued, queuedPass{key: item.NamespacedName, after: d})
}

// expectOne fails unless exactly one pass, of key, was queued, due after (0: at once).
func (q *recordingQueue) expectOne(t *testing.T, key types.NamespacedName, after time.Duration) {
	t.Helper()
	want := []queuedPass{{key: key, after: after}}
	if !slices.Equal(q.queued, want) {
		t.Fatalf("queued %+v, want %+v", q.queued, want)
	}
}

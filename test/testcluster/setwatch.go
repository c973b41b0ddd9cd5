package testcluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// WaitSettledByWatch is ExpectSettled driven by watches instead of polling: it judges the set (SetView.CheckSettled)
// once at the start and again on every change of the set or of a pod in its namespace, and returns the view that
// passed, or the last problem when timeout runs out first.
func (c *Cluster) WaitSettledByWatch(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, nodes ...string) (*SetView, error) {
	return c.WaitForSet(ctx, set, timeout, func(v *SetView) error { return v.CheckSettled(nodes) })
}

// WaitForSet judges the set with check on every change of the set or of a pod in its namespace (and once at the
// start) until check returns nil; it returns that view, or check's last error when timeout runs out first.
func (c *Cluster) WaitForSet(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, check func(*SetView) error) (*SetView, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}

	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(set.Namespace))
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(handler); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	// Shutdown waits for the informers, which stop with ctx: cancel first.
	defer func() { cancel(); factory.Shutdown() }()

	sets, err := ctrlcache.New(c.Config, ctrlcache.Options{
		Scheme:            c.Scheme,
		DefaultNamespaces: map[string]ctrlcache.Config{set.Namespace: {}},
	})
	if err != nil {
		return nil, err
	}
	informer, err := sets.GetInformer(ctx, &v1alpha1.NodeAgentSet{})
	if err != nil {
		return nil, err
	}
	if _, err := informer.AddEventHandler(handler); err != nil {
		return nil, err
	}
	go func() { _ = sets.Start(ctx) }()

	notify()
	var last error
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("NodeAgentSet %s/%s after %s: %w (last check: %v)", set.Namespace, set.Name, timeout, ctx.Err(), last)
		case <-changed:
		}
		v, err := c.ViewSet(ctx, set.Namespace, set.Name)
		if err != nil {
			last = err
			continue
		}
		if last = check(v); last == nil {
			return v, nil
		}
	}
}

// SetHistory is every status of one set that a watch delivered, in the API server's order.
type SetHistory struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	seen   []v1alpha1.NodeAgentSetStatus
}

// WatchSetStatus records the set's status on every watch event from now on (the current one first).
func (c *Cluster) WatchSetStatus(ctx context.Context, namespace, name string) (*SetHistory, error) {
	runCtx, cancel := context.WithCancel(context.Background())
	h := &SetHistory{cancel: cancel}
	sets, err := ctrlcache.New(c.Config, ctrlcache.Options{
		Scheme:            c.Scheme,
		DefaultNamespaces: map[string]ctrlcache.Config{namespace: {}},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	informer, err := sets.GetInformer(runCtx, &v1alpha1.NodeAgentSet{})
	if err != nil {
		cancel()
		return nil, err
	}
	record := func(obj any) {
		if s, ok := obj.(*v1alpha1.NodeAgentSet); ok && s.Name == name {
			h.mu.Lock()
			h.seen = append(h.seen, *s.Status.DeepCopy())
			h.mu.Unlock()
		}
	}
	reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	})
	if err != nil {
		cancel()
		return nil, err
	}
	go func() { _ = sets.Start(runCtx) }()
	if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		cancel()
		return nil, fmt.Errorf("watching NodeAgentSet %s/%s: the watch did not sync", namespace, name)
	}
	return h, nil
}

// Statuses are the statuses seen so far.
func (h *SetHistory) Statuses() []v1alpha1.NodeAgentSetStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]v1alpha1.NodeAgentSetStatus(nil), h.seen...)
}

// Stop ends the watch.
func (h *SetHistory) Stop() { h.cancel() }

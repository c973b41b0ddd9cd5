package testcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/nodeagentset/nodeagentset/internal/controller"
)

// runningManager is the in-process manager and the means to stop it.
type runningManager struct {
	cancel context.CancelFunc
	done   chan error
}

// managerStopTimeout bounds how long StopManager waits for the manager's runnables to return.
const managerStopTimeout = time.Minute

// StartManager runs a controller-runtime manager with the NodeAgentSet reconciler in this process, as cmd/main.go
// would but without metrics, health probes, leader election or webhooks, and waits until its cache has synced.
func (c *Cluster) StartManager(ctx context.Context, opts controller.Options) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manager != nil {
		return errors.New("StartManager: a manager is already running; StopManager first")
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.UserAgent = "nodeagentset-manager"
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 c.Scheme,
		Cache:                  controller.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		// A suite may stop and start managers; controller names are otherwise unique per process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := controller.NewNodeAgentSetReconciler(mgr, opts).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the NodeAgentSet reconciler: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()

	syncCtx, cancelSync := context.WithTimeout(ctx, controlPlaneTimeout)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		cancel()
		err := <-done
		return fmt.Errorf("the manager's cache did not sync: %v", err)
	}
	c.manager = &runningManager{cancel: cancel, done: done}
	return nil
}

// StopManager stops the in-process manager, if one runs, and waits for it.
func (c *Cluster) StopManager() error {
	c.mu.Lock()
	m := c.manager
	c.manager = nil
	c.mu.Unlock()
	if m == nil {
		return nil
	}
	m.cancel()
	select {
	case err := <-m.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("manager stopped with: %w", err)
		}
		return nil
	case <-time.After(managerStopTimeout):
		return fmt.Errorf("manager did not stop within %s", managerStopTimeout)
	}
}

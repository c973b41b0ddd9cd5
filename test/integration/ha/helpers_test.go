package ha

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Generous bounds (two shared cores); they bound waiting and say nothing about speed.
const (
	settleTimeout  = 2 * time.Minute
	rolloutTimeout = 3 * time.Minute
)

// Short leases, so a takeover after a SIGKILL happens within seconds: renewals every second, a leader that cannot
// renew for three seconds steps down, and the others take over four seconds after the last renewal.
const (
	leaseDuration = 4 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = 1 * time.Second
)

// leaseName is the manager's LeaderElectionID (cmd/main.go).
const leaseName = "nodeagentset.nodeagentset.io"

const (
	imageV1 = "registry.k8s.io/pause:3.9"
	imageV2 = "registry.k8s.io/pause:3.10"
)

// startManagers starts manager processes with leader election on, the lease in namespace, one after another: the
// first is the leader once its identity holds the lease. It returns the processes and the leader's identity.
// They are stopped when the spec ends.
func startManagers(ctx context.Context, namespace string, leases *leaseWatch, lease, renew, retry time.Duration, names ...string) ([]*testcluster.ManagerProcess, string) {
	GinkgoHelper()
	binary, err := cluster.ManagerBinary(ctx)
	Expect(err).NotTo(HaveOccurred())
	var procs []*testcluster.ManagerProcess
	leader := ""
	for i, name := range names {
		p, err := cluster.StartManagerProcess(binary, name,
			"--leader-elect",
			"--leader-election-namespace="+namespace,
			"--leader-elect-lease-duration="+lease.String(),
			"--leader-elect-renew-deadline="+renew.String(),
			"--leader-elect-retry-period="+retry.String(),
		)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Stop)
		procs = append(procs, p)
		if i == 0 {
			leader, _ = leases.waitHolder(ctx, settleTimeout, func(h string) bool { return h != "" })
			Expect(leader).NotTo(BeEmpty(), "manager %s takes the lease", name)
		}
	}
	return procs, leader
}

// leaseWatch records every holderIdentity the manager's Lease passes through, with the time the watch saw it.
type leaseWatch struct {
	mu      sync.Mutex
	changed *sync.Cond
	holders []leaseHolder
	stop    context.CancelFunc
}

type leaseHolder struct {
	identity string
	at       time.Time
}

func watchLease(ctx context.Context, namespace string) *leaseWatch {
	GinkgoHelper()
	runCtx, cancel := context.WithCancel(context.Background())
	w := &leaseWatch{stop: cancel}
	w.changed = sync.NewCond(&w.mu)
	factory := informers.NewSharedInformerFactoryWithOptions(cluster.Clientset, 0, informers.WithNamespace(namespace))
	informer := factory.Coordination().V1().Leases().Informer()
	record := func(obj any) {
		l, ok := obj.(*coordinationv1.Lease)
		if !ok || l.Name != leaseName {
			return
		}
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if n := len(w.holders); n == 0 || w.holders[n-1].identity != holder {
			w.holders = append(w.holders, leaseHolder{identity: holder, at: time.Now()})
			w.changed.Broadcast()
		}
	}
	reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record,
		UpdateFunc: func(_, obj any) { record(obj) },
	})
	Expect(err).NotTo(HaveOccurred())
	factory.Start(runCtx.Done())
	Expect(cache.WaitForCacheSync(ctx.Done(), reg.HasSynced)).To(BeTrue())
	DeferCleanup(func() {
		cancel()
		w.mu.Lock()
		w.changed.Broadcast()
		w.mu.Unlock()
	})
	return w
}

// waitHolder waits, on the watch's events, for the first holder from now on (the current one included) that
// matches, and returns it with the time it was seen; "" on timeout.
func (w *leaseWatch) waitHolder(ctx context.Context, timeout time.Duration, match func(string) bool) (string, time.Time) {
	deadline := time.AfterFunc(timeout, func() {
		w.mu.Lock()
		w.changed.Broadcast()
		w.mu.Unlock()
	})
	defer deadline.Stop()
	end := time.Now().Add(timeout)
	w.mu.Lock()
	defer w.mu.Unlock()
	from := max(0, len(w.holders)-1)
	for {
		for _, h := range w.holders[from:] {
			if match(h.identity) {
				return h.identity, h.at
			}
		}
		from = len(w.holders)
		if time.Now().After(end) || ctx.Err() != nil {
			return "", time.Time{}
		}
		w.changed.Wait()
	}
}

// history renders the holders seen, for failure messages.
func (w *leaseWatch) history() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := ""
	for _, h := range w.holders {
		out += fmt.Sprintf("%s %q; ", h.at.Format("15:04:05.000"), h.identity)
	}
	return out
}

// rolloutBounds is the invariant of a rolling update without surge, checked on every pod event: no node has two
// active pods (not deleting, not ended) and at most maxUnavailable of the nodes lack a ready pod.
func rolloutBounds(nodes []string, maxUnavailable int) testcluster.PodCheck {
	return func(_ testcluster.PodEvent, pods []corev1.Pod) []string {
		byNode := map[string][]corev1.Pod{}
		for _, p := range pods {
			if testcluster.IsActive(&p) {
				n := testcluster.TargetNode(&p)
				byNode[n] = append(byNode[n], p)
			}
		}
		var problems, notReady []string
		for _, n := range nodes {
			ready := false
			for i := range byNode[n] {
				ready = ready || testcluster.IsPodReady(&byNode[n][i])
			}
			if !ready {
				notReady = append(notReady, n)
			}
		}
		if len(notReady) > maxUnavailable {
			problems = append(problems, fmt.Sprintf("%d nodes %v lack a ready pod, maxUnavailable is %d", len(notReady), notReady, maxUnavailable))
		}
		names := make([]string, 0, len(byNode))
		for n := range byNode {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if len(byNode[n]) > 1 {
				problems = append(problems, fmt.Sprintf("node %q runs %d active pods without surge", n, len(byNode[n])))
			}
		}
		return problems
	}
}

// updatedAtLeast is a WaitForSet check: at least n nodes run a pod of the update revision.
func updatedAtLeast(n int32) func(*testcluster.SetView) error {
	return func(v *testcluster.SetView) error {
		if v.Set.Status.ObservedGeneration != v.Set.Generation || v.Set.Status.UpdatedNumberScheduled < n {
			return fmt.Errorf("updatedNumberScheduled %d of generation %d (observed %d), waiting for %d",
				v.Set.Status.UpdatedNumberScheduled, v.Set.Generation, v.Set.Status.ObservedGeneration, n)
		}
		return nil
	}
}

// startRollout creates the set on nodes, waits until it has settled, starts the pod watch with the rollout bounds,
// and changes the image. It returns the watch.
func startRollout(ctx context.Context, set *v1alpha1.NodeAgentSet, nodes []string, maxUnavailable int) *testcluster.PodWatch {
	GinkgoHelper()
	set.Spec.Template.Spec.Containers[0].Image = imageV1
	Expect(cluster.Client.Create(ctx, set)).To(Succeed())
	_, err := cluster.WaitSettledByWatch(ctx, set, settleTimeout, nodes...)
	Expect(err).NotTo(HaveOccurred())
	watch, err := cluster.WatchPods(ctx, set.Namespace, rolloutBounds(nodes, maxUnavailable))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(watch.Stop)
	_, err = cluster.UpdateSet(ctx, set.Namespace, set.Name, func(s *v1alpha1.NodeAgentSet) {
		s.Spec.Template.Spec.Containers[0].Image = imageV2
	})
	Expect(err).NotTo(HaveOccurred())
	return watch
}

// expectRolloutCompletes waits for the settled state on every node and checks the bounds held on every event.
func expectRolloutCompletes(ctx context.Context, set *v1alpha1.NodeAgentSet, nodes []string, watch *testcluster.PodWatch) {
	GinkgoHelper()
	v, err := cluster.WaitSettledByWatch(ctx, set, rolloutTimeout, nodes...)
	Expect(err).NotTo(HaveOccurred(), "the rollout completes with a settled status")
	for _, p := range v.Pods {
		Expect(p.Spec.Containers[0].Image).To(Equal(imageV2), "pod %s", p.Name)
	}
	Expect(watch.Violations()).To(BeEmpty(), "bounds on every pod event (%d events)", watch.Events())
	Expect(watch.Events()).To(BeNumerically(">", len(nodes)), "the watch saw the rollout")
}

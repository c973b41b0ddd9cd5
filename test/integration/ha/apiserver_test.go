package ha

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// apiserverOutage is how long kube-apiserver stays down. It is the outage under test, not a wait for something to
// happen: nothing can happen while the API server is gone.
const apiserverOutage = 10 * time.Second

// kube-apiserver goes away in the middle of a rollout and comes back on the same etcd, port and certificates (an
// upgrade or a crash of the control plane). The manager rides it out: its watches reconnect and relist, it resyncs
// from the API and finishes the rollout without a duplicate pod.
var _ = Describe("an API server restart", func() {
	It("mid-rollout: the manager keeps running, resyncs and completes the rollout within its bounds", func(ctx SpecContext) {
		const (
			nodeCount      = 10
			maxUnavailable = 1
		)
		ns := cluster.SpecNamespace(ctx, "ha", &testcluster.KubeletOptions{ReadyAfter: 500 * time.Millisecond})
		nodes, err := cluster.CreateNodes(ctx, "node", nodeCount)
		Expect(err).NotTo(HaveOccurred())
		leases := watchLease(ctx, ns)
		// Leases longer than the outage: the leader keeps its lease across it rather than stepping down (with the
		// suite's short leases it would lose leadership and exit, by design).
		procs, _ := startManagers(ctx, ns, leases, time.Minute, 40*time.Second, 2*time.Second, "a")

		set := testcluster.NewSet(ns, "agent")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		watch := startRollout(ctx, set, nodes, maxUnavailable)
		_, err = cluster.WaitForSet(ctx, set, rolloutTimeout, updatedAtLeast(3))
		Expect(err).NotTo(HaveOccurred())

		// One pod watch up to the outage and a fresh one after it: an informer that relists after a watch gap replays
		// the listed pods before the deletions it missed, so between those events it would show states that never
		// existed (a deleted pod beside its replacement). A fresh watch starts from one consistent list, checked as a
		// whole, and then follows every event again.
		watch.Stop()
		Expect(watch.Violations()).To(BeEmpty(), "bounds on every pod event before the outage (%d events)", watch.Events())

		By("stopping kube-apiserver")
		Expect(cluster.StopAPIServer()).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			// Should the spec fail during the outage, the next specs still need an API server.
			if cluster.APIServerStopped() {
				Expect(cluster.StartAPIServer(ctx)).To(Succeed())
			}
		})
		// The deliberate outage: the manager, the scheduler and the fake kubelet find the API server gone and retry.
		time.Sleep(apiserverOutage)
		exited, exitErr := procs[0].Exited()
		Expect(exited).To(BeFalse(), "the manager survives the outage (exit: %v)", exitErr)

		By("starting kube-apiserver again")
		Expect(cluster.StartAPIServer(ctx)).To(Succeed())
		after, err := cluster.WatchPods(ctx, ns, rolloutBounds(nodes, maxUnavailable))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(after.Stop)

		expectRolloutCompletes(ctx, set, nodes, after)
		exited, exitErr = procs[0].Exited()
		Expect(exited).To(BeFalse(), "the manager kept running (exit: %v)", exitErr)
	})
})

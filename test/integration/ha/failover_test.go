package ha

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Two replicas of the manager with leader election, the leader lost in the middle of a rolling update of 20 nodes.
// The other replica takes over with nothing but what the API holds, and the rollout keeps its bounds throughout.
var _ = Describe("leader failover", func() {
	const (
		nodeCount      = 20
		maxUnavailable = 2
	)
	var (
		ns     string
		nodes  []string
		leases *leaseWatch
	)

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "ha", &testcluster.KubeletOptions{ReadyAfter: 500 * time.Millisecond})
		var err error
		nodes, err = cluster.CreateNodes(ctx, "node", nodeCount)
		Expect(err).NotTo(HaveOccurred())
		leases = watchLease(ctx, ns)
	})

	It("the leader is SIGKILLed mid-rollout: the other replica takes over after the lease expires and completes it", func(ctx SpecContext) {
		procs, leader := startManagers(ctx, ns, leases, leaseDuration, renewDeadline, retryPeriod, "a", "b")
		set := testcluster.NewSet(ns, "agent")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		watch := startRollout(ctx, set, nodes, maxUnavailable)
		_, err := cluster.WaitForSet(ctx, set, rolloutTimeout, updatedAtLeast(4))
		Expect(err).NotTo(HaveOccurred())

		By("killing the leader")
		killedAt := time.Now()
		Expect(procs[0].Kill()).To(Succeed())
		successor, at := leases.waitHolder(ctx, settleTimeout, func(h string) bool { return h != "" && h != leader })
		Expect(successor).NotTo(BeEmpty(), "the other replica takes the lease; holders: %s", leases.history())
		// The lease was last renewed at most a retry period before the kill; it expires a lease duration after that,
		// and the other replica notices within its next retry: about leaseDuration+retryPeriod. The bound is twice
		// the lease, for a busy machine; it still tells a takeover on lease expiry from none at all.
		AddReportEntry("takeover after SIGKILL", at.Sub(killedAt).String())
		Expect(at.Sub(killedAt)).To(BeNumerically("<", 2*leaseDuration),
			"takeover within the lease duration; holders: %s", leases.history())

		expectRolloutCompletes(ctx, set, nodes, watch)
		exited, _ := procs[1].Exited()
		Expect(exited).To(BeFalse(), "the new leader keeps running")
	})

	It("the leader is terminated mid-rollout: it hands the lease over well within the lease duration", func(ctx SpecContext) {
		procs, leader := startManagers(ctx, ns, leases, leaseDuration, renewDeadline, retryPeriod, "a", "b")
		set := testcluster.NewSet(ns, "agent")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		watch := startRollout(ctx, set, nodes, maxUnavailable)
		_, err := cluster.WaitForSet(ctx, set, rolloutTimeout, updatedAtLeast(4))
		Expect(err).NotTo(HaveOccurred())

		By("terminating the leader (SIGTERM, as a rolling restart of the Deployment does)")
		terminatedAt := time.Now()
		Expect(procs[0].Terminate()).To(Succeed())
		successor, at := leases.waitHolder(ctx, settleTimeout, func(h string) bool { return h != "" && h != leader })
		Expect(successor).NotTo(BeEmpty(), "the other replica takes the lease; holders: %s", leases.history())
		// The leader releases the lease as it stops, so the other replica takes it on its next retry instead of
		// waiting for the lease to expire.
		AddReportEntry("handover after SIGTERM", at.Sub(terminatedAt).String())
		Expect(at.Sub(terminatedAt)).To(BeNumerically("<", leaseDuration),
			"handover before the lease would have expired; holders: %s", leases.history())
		Expect(procs[0].Wait(time.Minute)).To(Succeed(), "the terminated replica exits")

		expectRolloutCompletes(ctx, set, nodes, watch)
	})
})

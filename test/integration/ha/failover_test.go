package ha

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
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

	// loseLeaderMidRollout starts two replicas and a rolling update, stops the leader with stop once a few nodes are
	// updated, and waits for the other replica to hold the lease. It returns the replicas, the time from stop to
	// takeover, the set, and the pod watch checking the bounds.
	loseLeaderMidRollout := func(ctx SpecContext, how string, stop func(*testcluster.ManagerProcess) error) (
		[]*testcluster.ManagerProcess, time.Duration, *v1alpha1.NodeAgentSet, *testcluster.PodWatch) {
		procs, leader := startManagers(ctx, ns, leases, leaseDuration, renewDeadline, retryPeriod, "a", "b")
		set := testcluster.NewSet(ns, "agent")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		watch := startRollout(ctx, set, nodes, maxUnavailable)
		_, err := cluster.WaitForSet(ctx, set, rolloutTimeout, updatedAtLeast(4))
		Expect(err).NotTo(HaveOccurred())

		By(how + " the leader")
		stoppedAt := time.Now()
		Expect(stop(procs[0])).To(Succeed())
		successor, at := leases.waitHolder(ctx, settleTimeout, func(h string) bool { return h != "" && h != leader })
		Expect(successor).NotTo(BeEmpty(), "the other replica takes the lease; holders: %s", leases.history())
		AddReportEntry("takeover after "+how, at.Sub(stoppedAt).String())
		return procs, at.Sub(stoppedAt), set, watch
	}

	It("the leader is SIGKILLed mid-rollout: the other replica takes over after the lease expires and completes it", func(ctx SpecContext) {
		procs, takeover, set, watch := loseLeaderMidRollout(ctx, "SIGKILLing", (*testcluster.ManagerProcess).Kill)
		// The lease was last renewed at most a retry period before the kill; it expires a lease duration after that,
		// and the other replica notices within its next retry: about leaseDuration+retryPeriod. The bound is twice
		// the lease, for a busy machine; it still tells a takeover on lease expiry from none at all.
		Expect(takeover).To(BeNumerically("<", 2*leaseDuration), "takeover within the lease duration; holders: %s", leases.history())

		expectRolloutCompletes(ctx, set, nodes, watch)
		exited, _ := procs[1].Exited()
		Expect(exited).To(BeFalse(), "the new leader keeps running")
	})

	It("the leader is terminated mid-rollout: it hands the lease over well within the lease duration", func(ctx SpecContext) {
		// SIGTERM, as a rolling restart of the Deployment sends.
		procs, handover, set, watch := loseLeaderMidRollout(ctx, "SIGTERMing", (*testcluster.ManagerProcess).Terminate)
		// The leader releases the lease as it stops, so the other replica takes it on its next retry instead of
		// waiting for the lease to expire.
		Expect(handover).To(BeNumerically("<", leaseDuration), "handover before the lease would have expired; holders: %s", leases.history())
		Expect(procs[0].Wait(time.Minute)).To(Succeed(), "the terminated replica exits")

		expectRolloutCompletes(ctx, set, nodes, watch)
	})
})

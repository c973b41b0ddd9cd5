package rollout

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// kubeletSkew is how far the fake kubelet's clock runs ahead of the controller's: every Ready transition time it
// writes is this far in the controller's future.
const kubeletSkew = 30 * time.Second

// Clock skew between nodes and the controller must not stall or slow a rollout: with minReadySeconds 0 a ready pod
// is available at once (kubectl's podutils semantics), and with minReadySeconds positive the wait is measured from
// the API server's record of the status write, not from the kubelet's future timestamp.
var _ = Describe("rollouts on nodes whose clock runs ahead", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		opts := kubeletOptions()
		opts.ClockSkew = kubeletSkew
		ns = cluster.SpecNamespace(ctx, "skew", opts)
	})

	for _, minReady := range []int32{0, 5} {
		It("completes a rolling update with minReadySeconds "+itoa(minReady)+" as it would without skew", func(ctx SpecContext) {
			const nodeCount = 4
			set := testcluster.NewSet(ns, "skewed")
			set.Spec.MinReadySeconds = minReady
			set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
			createSet(ctx, set)
			nodes := createNodes(ctx, "node", nodeCount)
			By("waiting for the initial pods")
			_, err := cluster.WaitSettledByWatch(ctx, set, skewTimeout(minReady, nodeCount), nodes...)
			Expect(err).NotTo(HaveOccurred(), "the initial pods become available")

			var down peak
			watch, err := cluster.WatchPods(ctx, ns, noSurgeBounds(nodes, 1, &down))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(watch.Stop)

			By("rolling out a new image")
			updateSet(ctx, set, setImage(imageV2))
			// The bound is one wave of minReadySeconds per node plus a generous margin for a busy machine; it stays
			// well below what the skew would add (kubeletSkew per wave), so a rollout that waited out the skew, or
			// waited for an unrelated event, fails here.
			_, err = cluster.WaitSettledByWatch(ctx, set, skewTimeout(minReady, nodeCount), nodes...)
			Expect(err).NotTo(HaveOccurred(), "the rollout completes")
			By("the rollout is complete")
			Expect(watch.Violations()).To(BeEmpty())
			v := view(ctx, set)
			Expect(countImage(v, imageV2)).To(Equal(nodeCount))
			Expect(v.Set.Status.Conditions).To(ContainElement(And(
				HaveField("Type", v1alpha1.ConditionReady), HaveField("Reason", v1alpha1.ReasonRolloutComplete))))
		})
	}
})

// skewTimeout bounds a rollout over nodeCount nodes one at a time: each wave waits minReadySeconds, and 45s cover
// pod starts and reconciles on a shared machine. With the skew waited out, nodeCount waves would take at least
// nodeCount*(minReadySeconds+kubeletSkew), which is more.
func skewTimeout(minReady int32, nodeCount int) time.Duration {
	return time.Duration(nodeCount)*time.Duration(minReady)*time.Second + 45*time.Second
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

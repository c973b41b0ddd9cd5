package daemonset

import (
	"context"
	"strconv"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// A restarted manager (a new reconciler on the same API server, as after a crash or a leader failover) knows only
// what the API holds. It must report the conditions the old one reported, not rediscover them a pass later.
var _ = Describe("a restarted manager", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "restart", &testcluster.KubeletOptions{})
	})

	It("keeps reporting a refused create as Stalled FailedCreate", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "quota"))
		nodes := createNodes(ctx, "node", 2)
		expectSettled(ctx, set, nodes...)
		refuseNewPods(ctx, ns, len(nodes))
		createNode(ctx, "node-without-room")
		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(
			haveCondition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonCreateFailed))
		before, err := cluster.GetSet(ctx, ns, set.Name)
		Expect(err).NotTo(HaveOccurred())

		history, err := cluster.WatchSetStatus(ctx, ns, set.Name)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(history.Stop)

		By("restarting the manager")
		writer := &countingPodWriter{client: cluster.Client}
		restartManager(ctx, controller.Options{PodWriter: writer})
		// Two refused creates from the new manager: its first pass, status write included, is over.
		Eventually(ctx, writer.creates.Load).WithTimeout(settleTimeout).Should(BeNumerically(">=", 2))

		for i, st := range history.Statuses() {
			stalled := findCondition(st.Conditions, v1alpha1.ConditionStalled)
			Expect(stalled).NotTo(BeNil())
			Expect(stalled.Status).To(Equal(metav1.ConditionTrue), "status %d seen after the restart: %s", i, stalled.Message)
			Expect(stalled.Reason).To(Equal(v1alpha1.ReasonCreateFailed), "status %d seen after the restart: %s", i, stalled.Message)
		}
		after, err := cluster.GetSet(ctx, ns, set.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(conditionSummary(after.Status.Conditions)).To(Equal(conditionSummary(before.Status.Conditions)),
			"the new manager reports what the old one did")
	})
})

// restartManager replaces the suite's manager with a new one (a fresh reconciler, nothing carried over in memory)
// and puts a manager with the suite's options back when the spec ends.
func restartManager(ctx context.Context, opts controller.Options) {
	GinkgoHelper()
	Expect(cluster.StopManager()).To(Succeed())
	Expect(cluster.StartManager(ctx, opts)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(cluster.StopManager()).To(Succeed())
		Expect(cluster.StartManager(ctx, controller.Options{})).To(Succeed())
	})
}

// countingPodWriter counts pod creates (refused ones too) and passes every write to the API server.
type countingPodWriter struct {
	client  client.Client
	creates atomic.Int32
}

func (w *countingPodWriter) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	w.creates.Add(1)
	return w.client.Create(ctx, pod)
}

func (w *countingPodWriter) DeletePod(ctx context.Context, pod *corev1.Pod) error {
	uid := pod.UID
	return w.client.Delete(ctx, pod, client.Preconditions{UID: &uid})
}

func (w *countingPodWriter) PatchPod(ctx context.Context, pod *corev1.Pod, patch client.Patch) error {
	return w.client.Patch(ctx, pod, patch)
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// conditionSummary is what a reader of the conditions acts on: type, status, reason, the generation described and
// since when. The message is left out: a refused create's message names the generated pod, different every time.
func conditionSummary(conds []metav1.Condition) []string {
	var out []string
	for _, c := range conds {
		out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason+" gen "+strconv.FormatInt(c.ObservedGeneration, 10)+" since "+c.LastTransitionTime.UTC().String())
	}
	return out
}

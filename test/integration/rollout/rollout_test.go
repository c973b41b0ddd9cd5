package rollout

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Rollouts, after the upstream DaemonSet e2e tests ("should update pod when spec was updated and update strategy
// is RollingUpdate", "should not update pod when spec is updated and update strategy is OnDelete", "should
// rollback without unnecessary restarts", "should surge pods onto nodes when spec was updated and update strategy
// is RollingUpdate") plus the NodeAgentSet's pause and partition.
var _ = Describe("rollouts", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "rollout", kubeletOptions())
	})

	It("OnDelete: a template change leaves the pods until they are deleted", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "ondelete")
		set.Spec.UpdateStrategy = testcluster.OnDelete()
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		before := expectSettled(ctx, set, settleTimeout, nodes...)
		oldRevision := before.Set.Status.UpdateRevision

		updateSet(ctx, set, setImage(imageV2))
		v := expectObserved(ctx, set)
		Expect(v.Set.Status.UpdateRevision).NotTo(Equal(oldRevision), "a new revision for the new template")
		Consistently(ctx, func() map[string]types.UID { return podIDs(view(ctx, set)) }).
			WithTimeout(quietPeriod).Should(Equal(podIDs(before)), "no pod is replaced")
		Expect(view(ctx, set).Set.Status.UpdatedNumberScheduled).To(BeEquivalentTo(0))

		By("deleting the pod on one node, only that node gets the new template")
		deleted := before.ActivePodsByNode()[nodes[0]][0]
		Expect(cluster.Client.Delete(ctx, &deleted)).To(Succeed())
		Eventually(ctx, func() map[string][]string { return images(view(ctx, set)) }).WithTimeout(settleTimeout).Should(Equal(map[string][]string{
			nodes[0]: {imageV2}, nodes[1]: {imageV1}, nodes[2]: {imageV1},
		}))
		Eventually(ctx, func() int32 { return view(ctx, set).Set.Status.UpdatedNumberScheduled }).
			WithTimeout(settleTimeout).Should(BeEquivalentTo(1))

		By("deleting the others, the rollout completes")
		for _, n := range nodes[1:] {
			p := before.ActivePodsByNode()[n][0]
			Expect(cluster.Client.Delete(ctx, &p)).To(Succeed())
		}
		expectSettled(ctx, set, settleTimeout, nodes...)
	})

	It("RollingUpdate: replaces every pod, never with more than maxUnavailable nodes down", func(ctx SpecContext) {
		const maxUnavailable = 2
		set := testcluster.NewSet(ns, "rolling")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 5)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		down := &peak{}
		watch, err := cluster.WatchPods(ctx, ns, noSurgeBounds(nodes, maxUnavailable, down))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(watch.Stop)

		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)

		Expect(watch.Violations()).To(BeEmpty(), "bounds during the rollout")
		Expect(down.get()).To(BeNumerically(">=", 1), "the rollout took pods down")
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
			Expect(podIDs(before)).NotTo(HaveKey(p.Name), "pod %s is new", p.Name)
		}
		GinkgoWriter.Printf("at most %d nodes were down at once (maxUnavailable %d)\n", down.get(), maxUnavailable)
	})

	It("RollingUpdate with surge: maxUnavailable 0, maxSurge 20%, minReadySeconds", func(ctx SpecContext) {
		const minReadySeconds = 3
		set := testcluster.NewSet(ns, "surge")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(0), intstr.FromString("20%"))
		set.Spec.MinReadySeconds = minReadySeconds
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 5) // 20% of 5 is one surge pod at a time
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		surged := &peak{}
		watch, err := cluster.WatchPods(ctx, ns, surgeBounds(nodes, 1, hashOf(before), minReadySeconds*time.Second, surged))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(watch.Stop)

		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)

		Expect(watch.Violations()).To(BeEmpty(), "bounds during the surge rollout")
		Expect(surged.get()).To(Equal(1), "new pods started beside old ones")
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
			Expect(podIDs(before)).NotTo(HaveKey(p.Name))
		}
	})

	It("rolls back from a crash-looping image without restarting pods that were never replaced", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "rollback")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 4)
		good := expectSettled(ctx, set, settleTimeout, nodes...)
		goodRevision := good.Set.Status.UpdateRevision

		By("updating to an image that never becomes ready, the rollout stops after one node")
		const cause = "kubectl nas set image nodeagentset/rollback agent=" + imageBad
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			setImage(imageBad)(s)
			metav1.SetMetaDataAnnotation(&s.ObjectMeta, v1alpha1.ChangeCauseAnnotation, cause)
		})
		Eventually(ctx, func() int { return countImage(view(ctx, set), imageBad) }).WithTimeout(settleTimeout).Should(Equal(1))
		Consistently(ctx, func() int { return countImage(view(ctx, set), imageBad) }).WithTimeout(quietPeriod).Should(Equal(1),
			"maxUnavailable 1 is used up by the pod that does not become ready")
		stuck := view(ctx, set)
		badRevision := &appsv1.ControllerRevision{}
		Expect(cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: stuck.Set.Status.UpdateRevision}, badRevision)).To(Succeed())
		Expect(badRevision.Annotations).To(HaveKeyWithValue(v1alpha1.ChangeCauseAnnotation, cause), "the change cause is carried into the revision")
		Expect(badRevision.Revision).To(BeEquivalentTo(2))
		untouched := map[string]types.UID{}
		for _, p := range stuck.Pods {
			if testcluster.IsActive(&p) && p.Spec.Containers[0].Image == imageV1 {
				untouched[p.Name] = p.UID
			}
		}
		Expect(untouched).To(HaveLen(len(nodes) - 1))

		By("reverting the template, only the bad pod is replaced")
		updateSet(ctx, set, setImage(imageV1))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		Expect(after.Set.Status.UpdateRevision).To(Equal(goodRevision), "the old template's revision is the update revision again")
		afterIDs := podIDs(after)
		for name, uid := range untouched {
			Expect(afterIDs).To(HaveKeyWithValue(name, uid), "pod %s kept running through the rollback", name)
		}
		Expect(countImage(after, imageBad)).To(BeZero())
		Eventually(ctx, func() (int64, error) {
			rev := &appsv1.ControllerRevision{}
			err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: goodRevision}, rev)
			return rev.Revision, err
		}).WithTimeout(settleTimeout).Should(BeEquivalentTo(3), "rolling back renumbers the old revision to the next number")
	})

	It("pause: no pod is replaced while paused, new nodes still get a pod, resuming completes the rollout", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "paused"))
		nodes := createNodes(ctx, "node", 3)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy.RollingUpdate.Paused = true
			s.Spec.Template.Spec.Containers[0].Image = imageV2
		})
		v := expectObserved(ctx, set)
		Expect(v.Set.Status.UpdateRevision).NotTo(Equal(before.Set.Status.UpdateRevision))
		Consistently(ctx, func() map[string]types.UID { return podIDs(view(ctx, set)) }).
			WithTimeout(quietPeriod).Should(Equal(podIDs(before)), "no pod is replaced while paused")
		Eventually(ctx, func() *metav1.Condition {
			return apimeta.FindStatusCondition(view(ctx, set).Set.Status.Conditions, v1alpha1.ConditionProgressing)
		}).WithTimeout(settleTimeout).Should(And(
			Not(BeNil()),
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", v1alpha1.ReasonRolloutPaused),
		), "Progressing says the rollout is paused")

		By("a node added while paused gets a pod of the update revision")
		added := createNodes(ctx, "added", 1)[0]
		Eventually(ctx, readyPodsWithImage(ctx, set, imageV2)).WithTimeout(settleTimeout).Should(
			ConsistOf(HaveField("Spec.NodeName", added)))
		Expect(podIDs(view(ctx, set))).To(HaveLen(len(nodes) + 1))
		for name, uid := range podIDs(before) {
			Expect(podIDs(view(ctx, set))).To(HaveKeyWithValue(name, uid))
		}

		By("resuming, the rollout completes")
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Spec.UpdateStrategy.RollingUpdate.Paused = false })
		expectSettled(ctx, set, rolloutTimeout, append(nodes, added)...)
	})

	It("partition: that many nodes keep the old revision, and lowering it continues the rollout", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "partitioned"))
		nodes := createNodes(ctx, "node", 5)
		expectSettled(ctx, set, settleTimeout, nodes...)

		partitionedAt := func(keep int, partition intstr.IntOrString) {
			GinkgoHelper()
			updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(partition)
				s.Spec.Template.Spec.Containers[0].Image = imageV2
			})
			expectObserved(ctx, set)
			Eventually(ctx, func(g Gomega) {
				v := view(ctx, set)
				g.Expect(countImage(v, imageV1)).To(Equal(keep), "pods kept on the old revision")
				g.Expect(readyPodsWithImage(ctx, set, imageV2)()).To(HaveLen(len(nodes) - keep))
				g.Expect(v.Set.Status.UpdatedNumberScheduled).To(BeEquivalentTo(len(nodes) - keep))
			}).WithTimeout(rolloutTimeout).Should(Succeed())
			Consistently(ctx, func() int { return countImage(view(ctx, set), imageV1) }).
				WithTimeout(quietPeriod).Should(Equal(keep), "the rollout stops at the partition")
		}

		By("partition 40% of 5 nodes: two keep the old revision")
		partitionedAt(2, intstr.FromString("40%"))
		By("lowering the partition to 1")
		partitionedAt(1, intstr.FromInt32(1))
		By("lowering the partition to 0, every node is updated")
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = nil })
		expectSettled(ctx, set, rolloutTimeout, nodes...)
	})

	It("a template change in the middle of a rollout starts the new rollout at once", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "midway")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 4)
		expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, setImage(imageBad))
		Eventually(ctx, func() int { return countImage(view(ctx, set), imageBad) }).WithTimeout(settleTimeout).Should(Equal(1))
		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
		}
	})
})

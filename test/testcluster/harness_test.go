package testcluster_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// pinnedPod is a pod pinned to a node the way the NodeAgentSet controller pins its pods: a required node
// affinity term on metadata.name, left to the scheduler to bind.
func pinnedPod(namespace, name, node, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": "smoke"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "main", Image: image}},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchFields: []corev1.NodeSelectorRequirement{{
						Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
					}},
				}}},
			}},
		},
	}
}

func getPod(ctx SpecContext, namespace, name string) func() (*corev1.Pod, error) {
	return func() (*corev1.Pod, error) {
		pod := &corev1.Pod{}
		err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod)
		return pod, err
	}
}

var _ = Describe("the test cluster", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		var err error
		ns, err = cluster.CreateNamespace(ctx, "smoke")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			if CurrentSpecReport().Failed() {
				cluster.Describe(ctx, GinkgoWriter, ns)
			}
			Expect(cluster.Reset(ctx)).To(Succeed())
		})
	})

	It("creates ready nodes with their status", func(ctx SpecContext) {
		_, err := cluster.CreateNode(ctx, testcluster.NewNode("smoke-node", testcluster.WithLabels(map[string]string{"ssd": "true"})))
		Expect(err).NotTo(HaveOccurred())
		node := &corev1.Node{}
		Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "smoke-node"}, node)).To(Succeed())
		Expect(node.Labels).To(HaveKeyWithValue("ssd", "true"))
		Expect(node.Status.Conditions).To(ContainElement(And(
			HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))))
		Expect(node.Status.Allocatable).To(HaveKey(corev1.ResourcePods))
		// TaintNodesByCondition is off: no not-ready taint appears.
		Expect(node.Spec.Taints).To(BeEmpty())

		Expect(cluster.SetNodeUnschedulable(ctx, "smoke-node", true)).To(Succeed())
		Expect(cluster.SetNodeLabels(ctx, "smoke-node", map[string]*string{"ssd": nil, "zone": ptr.To("a")})).To(Succeed())
		Expect(cluster.Client.Get(ctx, client.ObjectKey{Name: "smoke-node"}, node)).To(Succeed())
		Expect(node.Spec.Unschedulable).To(BeTrue())
		Expect(node.Spec.Taints).To(ConsistOf(HaveField("Key", corev1.TaintNodeUnschedulable)))
		Expect(node.Labels).NotTo(HaveKey("ssd"))
		Expect(node.Labels).To(HaveKeyWithValue("zone", "a"))
	})

	It("binds pinned pods through the scheduler, and the fake kubelet runs them and finishes their deletion", func(ctx SpecContext) {
		_, err := cluster.CreateNodes(ctx, "smoke", 2)
		Expect(err).NotTo(HaveOccurred())
		kubelet, err := cluster.StartKubelet(ctx, testcluster.KubeletOptions{
			Namespace: ns, Outcome: testcluster.CrashLoopIfImageContains("bad"),
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(kubelet.Stop)

		Expect(cluster.Client.Create(ctx, pinnedPod(ns, "good", "smoke-1", "registry.k8s.io/pause:3.10"))).To(Succeed())
		Expect(cluster.Client.Create(ctx, pinnedPod(ns, "bad", "smoke-0", "example.com/bad:1"))).To(Succeed())

		Eventually(getPod(ctx, ns, "good")).WithTimeout(time.Minute).Should(And(
			HaveField("Spec.NodeName", "smoke-1"),
			HaveField("Status.Phase", corev1.PodRunning),
			WithTransform(testcluster.IsPodReady, BeTrue()),
		))
		Eventually(getPod(ctx, ns, "bad")).WithTimeout(time.Minute).Should(And(
			HaveField("Spec.NodeName", "smoke-0"),
			HaveField("Status.Phase", corev1.PodRunning),
			HaveField("Status.ContainerStatuses", ContainElement(HaveField("State.Waiting.Reason", "CrashLoopBackOff"))),
		))
		Consistently(getPod(ctx, ns, "bad")).WithTimeout(2 * time.Second).Should(
			WithTransform(testcluster.IsPodReady, BeFalse()))

		// A graceful delete of a bound pod waits for the kubelet; the fake one confirms it.
		Expect(cluster.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "good"}},
			client.GracePeriodSeconds(30))).To(Succeed())
		Eventually(func() error { _, err := getPod(ctx, ns, "good")(); return err }).WithTimeout(time.Minute).
			Should(Satisfy(apierrors.IsNotFound))
	})

	It("leaves a pod the test ended alone", func(ctx SpecContext) {
		_, err := cluster.CreateNodes(ctx, "smoke", 1)
		Expect(err).NotTo(HaveOccurred())
		kubelet, err := cluster.StartKubelet(ctx, testcluster.KubeletOptions{Namespace: ns})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(kubelet.Stop)

		pod := pinnedPod(ns, "ends", "smoke-0", "busybox:1.37")
		pod.Spec.NodeName = "smoke-0"
		pod.Spec.Affinity = nil
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		Eventually(getPod(ctx, ns, "ends")).WithTimeout(time.Minute).Should(WithTransform(testcluster.IsPodReady, BeTrue()))
		Expect(cluster.SetPodPhase(ctx, ns, "ends", corev1.PodFailed)).To(Succeed())
		Consistently(getPod(ctx, ns, "ends")).WithTimeout(2 * time.Second).Should(HaveField("Status.Phase", corev1.PodFailed))
	})

	It("runs the garbage collector: a background delete of an owner removes its dependents", func(ctx SpecContext) {
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"}}
		Expect(cluster.Client.Create(ctx, owner)).To(Succeed())
		dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: "dependent",
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: ptr.To(true),
			}},
		}}
		Expect(cluster.Client.Create(ctx, dependent)).To(Succeed())
		Expect(cluster.Client.Delete(ctx, owner, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Eventually(func() error {
			return cluster.Client.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		}).WithTimeout(2 * time.Minute).Should(Satisfy(apierrors.IsNotFound))
	})
})

package daemonset

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// defaultTolerations are the tolerations every pod of a set carries, as upstream's DaemonSet pods do.
func defaultTolerations(hostNetwork bool) []corev1.Toleration {
	t := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
	if hostNetwork {
		t = append(t, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	return t
}

// tolerationMatchers match tolerations by key, operator and effect (upstream leaves TolerationSeconds unset).
func tolerationMatchers(ts []corev1.Toleration) []any {
	var ms []any
	for _, t := range ts {
		ms = append(ms, And(HaveField("Key", t.Key), HaveField("Operator", t.Operator), HaveField("Effect", t.Effect)))
	}
	return ms
}

// orphanPod is a pod matching a set's selector, bound to a node directly, with no owner.
func orphanPod(set *v1alpha1.NodeAgentSet, name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: set.Namespace, Name: name, Labels: set.Spec.Template.Labels},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			Containers:                    set.Spec.Template.Spec.Containers,
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}
}

// beReady matches a pod (a value, as in a list) whose Ready condition is True.
func beReady() OmegaMatcher {
	return WithTransform(func(p corev1.Pod) bool { return testcluster.IsPodReady(&p) }, BeTrue())
}

var _ = Describe("pods and ownership", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "ownership", &testcluster.KubeletOptions{})
	})

	It("gives every pod the default tolerations, the revision hash label, a blocking controller reference and a node pin", func(ctx SpecContext) {
		plain := createSet(ctx, testcluster.NewSet(ns, "plain"))
		hostNet := testcluster.NewSet(ns, "hostnet")
		hostNet.Spec.Template.Spec.HostNetwork = true
		hostNet.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "agents", Effect: corev1.TaintEffectNoSchedule}}
		createSet(ctx, hostNet)
		node := createNode(ctx, "node-0")

		for _, tc := range []struct {
			set         *v1alpha1.NodeAgentSet
			hostNetwork bool
		}{{plain, false}, {hostNet, true}} {
			v := expectSettled(ctx, tc.set, node)
			pod := podOn(v, node)

			want := defaultTolerations(tc.hostNetwork)
			want = append(want, tc.set.Spec.Template.Spec.Tolerations...)
			Expect(pod.Spec.Tolerations).To(ConsistOf(tolerationMatchers(want)...), "tolerations of %s", pod.Name)

			hash := pod.Labels[v1alpha1.ControllerRevisionHashLabel]
			Expect(hash).NotTo(BeEmpty())
			Expect(v.Set.Status.UpdateRevision).To(Equal(tc.set.Name + "-" + hash))
			for k, val := range tc.set.Spec.Template.Labels {
				Expect(pod.Labels).To(HaveKeyWithValue(k, val))
			}

			Expect(pod.OwnerReferences).To(ConsistOf(And(
				HaveField("APIVersion", v1alpha1.GroupVersion.String()),
				HaveField("Kind", "NodeAgentSet"),
				HaveField("Name", tc.set.Name),
				HaveField("UID", v.Set.UID),
				HaveField("Controller", HaveValue(BeTrue())),
				HaveField("BlockOwnerDeletion", HaveValue(BeTrue())),
			)))

			Expect(pod.Spec.Affinity).NotTo(BeNil())
			Expect(pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(
				ContainElement(HaveField("MatchFields", ContainElement(And(
					HaveField("Key", metav1.ObjectNameField),
					HaveField("Operator", corev1.NodeSelectorOpIn),
					HaveField("Values", ConsistOf(node)),
				)))))

			By("the set's revision is a ControllerRevision named <set>-<hash>, labelled with the hash and owned by the set")
			rev := &appsv1.ControllerRevision{}
			Expect(cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v.Set.Status.UpdateRevision}, rev)).To(Succeed())
			Expect(rev.Labels).To(HaveKeyWithValue(v1alpha1.ControllerRevisionHashLabel, hash))
			Expect(metav1.IsControlledBy(rev, v.Set)).To(BeTrue())
		}
	})

	It("adopts matching orphan pods and keeps only the oldest of duplicates on a node", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "adopt")
		set.Spec.UpdateStrategy = testcluster.OnDelete() // adopted pods lack the revision hash; keep them as they are
		nodes := createNodes(ctx, "node", 3)
		// Created in name order, so the oldest on node-0 is orphan-a whether or not the timestamps differ.
		for _, o := range []struct{ name, node string }{{"orphan-a", nodes[0]}, {"orphan-b", nodes[0]}, {"orphan-c", nodes[1]}} {
			Expect(cluster.Client.Create(ctx, orphanPod(set, o.name, o.node))).To(Succeed())
		}
		Eventually(ctx, func() []corev1.Pod { return podsWithLabels(ctx, ns, set.Spec.Template.Labels) }).
			WithTimeout(settleTimeout).Should(And(HaveLen(3), HaveEach(beReady())))

		createSet(ctx, set)

		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			byNode := v.ActivePodsByNode()
			g.Expect(byNode).To(HaveLen(3), "one pod on each node")
			g.Expect(byNode[nodes[0]]).To(ConsistOf(HaveField("Name", "orphan-a")), "the oldest duplicate stays")
			g.Expect(byNode[nodes[1]]).To(ConsistOf(HaveField("Name", "orphan-c")), "the orphan is adopted, not replaced")
			g.Expect(byNode[nodes[2]]).To(HaveLen(1))
			g.Expect(v.Set.Status.DesiredNumberScheduled).To(BeEquivalentTo(3))
			g.Expect(v.Set.Status.CurrentNumberScheduled).To(BeEquivalentTo(3))
			g.Expect(v.Set.Status.NumberReady).To(BeEquivalentTo(3))
		}).WithTimeout(settleTimeout).Should(Succeed())
		expectGone(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orphan-b"}}, settleTimeout)
	})

	It("releases an owned pod that stops matching the selector and replaces it", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "release"))
		nodes := createNodes(ctx, "node", 2)
		v := expectSettled(ctx, set, nodes...)
		relabelled := podOn(v, nodes[0])

		patch := client.MergeFrom(relabelled.DeepCopy())
		relabelled.Labels["app"] = "something-else"
		Expect(cluster.Client.Patch(ctx, &relabelled, patch)).To(Succeed())

		Eventually(ctx, func() ([]metav1.OwnerReference, error) {
			p := &corev1.Pod{}
			err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(&relabelled), p)
			return p.OwnerReferences, err
		}).WithTimeout(settleTimeout).Should(BeEmpty(), "the released pod has no owner")
		v = expectSettled(ctx, set, nodes...)
		Expect(podOn(v, nodes[0]).UID).NotTo(Equal(relabelled.UID))
	})

	Context("deleting a set the way kubectl does", func() {
		// Pods keep the default 30s grace period here: their deletion waits for the (fake) kubelet, as in a cluster.
		newSet := func(name string) *v1alpha1.NodeAgentSet {
			set := testcluster.NewSet(ns, name)
			set.Spec.Template.Spec.TerminationGracePeriodSeconds = nil
			return set
		}

		DescribeTable("a cascading delete removes the pods and revisions through the garbage collector",
			func(ctx SpecContext, policy metav1.DeletionPropagation) {
				set := createSet(ctx, newSet("cascade"))
				nodes := createNodes(ctx, "node", 2)
				expectSettled(ctx, set, nodes...)

				Expect(cluster.Client.Delete(ctx, set, client.PropagationPolicy(policy))).To(Succeed())

				expectGone(ctx, set, gcTimeout)
				Eventually(ctx, func() []corev1.Pod { return podsWithLabels(ctx, ns, set.Spec.Template.Labels) }).
					WithTimeout(gcTimeout).Should(BeEmpty(), "the set's pods are deleted")
				Eventually(ctx, func() ([]appsv1.ControllerRevision, error) {
					revs := &appsv1.ControllerRevisionList{}
					err := cluster.Client.List(ctx, revs, client.InNamespace(ns))
					return revs.Items, err
				}).WithTimeout(gcTimeout).Should(BeEmpty(), "the set's revisions are deleted")
			},
			Entry("foreground (kubectl delete --cascade=foreground)", metav1.DeletePropagationForeground),
			Entry("background (kubectl delete, the default)", metav1.DeletePropagationBackground),
		)

		It("an orphaning delete (kubectl delete --cascade=orphan) leaves the pods running, without owner", func(ctx SpecContext) {
			set := createSet(ctx, newSet("orphan"))
			nodes := createNodes(ctx, "node", 2)
			v := expectSettled(ctx, set, nodes...)
			before := uids(v.Pods)

			Expect(cluster.Client.Delete(ctx, set, client.PropagationPolicy(metav1.DeletePropagationOrphan))).To(Succeed())
			expectGone(ctx, set, gcTimeout)

			Eventually(ctx, func() []corev1.Pod { return podsWithLabels(ctx, ns, set.Spec.Template.Labels) }).
				WithTimeout(gcTimeout).Should(And(HaveLen(2), HaveEach(HaveField("OwnerReferences", BeEmpty()))),
				"the pods lose their owner reference")
			Consistently(ctx, func() map[string]types.UID { return uids(podsWithLabels(ctx, ns, set.Spec.Template.Labels)) }).
				WithTimeout(quietPeriod).Should(Equal(before), "the same pods keep running")
		})
	})
})

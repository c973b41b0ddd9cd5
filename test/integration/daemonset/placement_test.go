package daemonset

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Placement: which nodes get a pod, after the upstream DaemonSet integration tests (TestOneNodeDaemonLaunchesPod,
// TestSimpleDaemonSetLaunchesPods, TestSimpleDaemonSetRestartsPodsOnTerminalPhase,
// TestDaemonSetWithNodeSelectorLaunchesPods, TestNotReadyNodeDaemonDoesLaunchPod, TestTaintedNode,
// TestUnschedulableNodeDaemonDoesLaunchPod) and the node label walkthroughs of the seed documents.
var _ = Describe("placement", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "placement", &testcluster.KubeletOptions{})
	})

	DescribeTable("a set on one node gets one ready pod there",
		func(ctx SpecContext, typ v1alpha1.NodeAgentSetUpdateStrategyType) {
			set := testcluster.NewSet(ns, "one")
			set.Spec.UpdateStrategy = strategy(typ)
			createSet(ctx, set)
			node := createNode(ctx, "single-node")

			v := expectSettled(ctx, set, node)
			Expect(v.Set.Status.UpdateRevision).To(HavePrefix(set.Name + "-"))
			Eventually(ctx, hasEvent(ctx, ns, set.Name, "SuccessfulCreate")).WithTimeout(settleTimeout).Should(BeTrue(),
				"a SuccessfulCreate event for the set")
		},
		strategyEntries(),
	)

	DescribeTable("a set on five nodes gets one ready pod on each",
		func(ctx SpecContext, typ v1alpha1.NodeAgentSetUpdateStrategyType) {
			set := testcluster.NewSet(ns, "five")
			set.Spec.UpdateStrategy = strategy(typ)
			createSet(ctx, set)
			nodes := createNodes(ctx, "node", 5)

			expectSettled(ctx, set, nodes...)
		},
		strategyEntries(),
	)

	It("names each created pod in its own event, as kubectl get events shows them", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "events")
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 4)
		v := expectSettled(ctx, set, nodes...)
		var want []string
		for _, p := range v.Pods {
			want = append(want, p.Name)
		}

		// The events API folds events that differ only in their note into one series; each create must stay an
		// event of its own that names its pod in the note and as the related object.
		createdPods := func() ([]string, error) {
			events := &corev1.EventList{}
			if err := cluster.Client.List(ctx, events, client.InNamespace(ns)); err != nil {
				return nil, err
			}
			var names []string
			for _, e := range events.Items {
				if e.InvolvedObject.Name != set.Name || e.Reason != "SuccessfulCreate" {
					continue
				}
				pod, ok := strings.CutPrefix(e.Message, "Created pod: ")
				if !ok || e.Related == nil || e.Related.Kind != "Pod" || e.Related.Name != pod {
					return nil, fmt.Errorf("event %s: message %q, related %v; want \"Created pod: <name>\" related to that pod",
						e.Name, e.Message, e.Related)
				}
				names = append(names, pod)
			}
			return names, nil
		}
		Eventually(ctx, createdPods).WithTimeout(settleTimeout).Should(ConsistOf(want),
			"one SuccessfulCreate event per pod, each naming its pod")
	})

	DescribeTable("a pod that ended is replaced on its node",
		func(ctx SpecContext, typ v1alpha1.NodeAgentSetUpdateStrategyType, phase corev1.PodPhase) {
			set := testcluster.NewSet(ns, "terminal")
			set.Spec.UpdateStrategy = strategy(typ)
			createSet(ctx, set)
			nodes := createNodes(ctx, "node", 3)
			v := expectSettled(ctx, set, nodes...)

			ended := podOn(v, nodes[0])
			Expect(cluster.SetPodPhase(ctx, ns, ended.Name, phase)).To(Succeed())

			expectGone(ctx, &ended, settleTimeout)
			v = expectSettled(ctx, set, nodes...)
			Expect(podOn(v, nodes[0]).UID).NotTo(Equal(ended.UID), "the ended pod was replaced by a new one")
			if phase == corev1.PodFailed {
				Eventually(ctx, hasEvent(ctx, ns, set.Name, "FailedDaemonPod")).WithTimeout(settleTimeout).Should(BeTrue(),
					"a FailedDaemonPod event for the failed pod")
			}
		},
		Entry("Failed, with the RollingUpdate strategy", v1alpha1.RollingUpdateStrategyType, corev1.PodFailed),
		Entry("Failed, with the OnDelete strategy", v1alpha1.OnDeleteStrategyType, corev1.PodFailed),
		Entry("Succeeded, with the RollingUpdate strategy", v1alpha1.RollingUpdateStrategyType, corev1.PodSucceeded),
		Entry("Succeeded, with the OnDelete strategy", v1alpha1.OnDeleteStrategyType, corev1.PodSucceeded),
	)

	It("runs only on nodes matching the nodeSelector", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "selector")
		set.Spec.Template.Spec.NodeSelector = map[string]string{"ssd": "true"}
		createSet(ctx, set)
		createNodes(ctx, "plain", 2)
		ssd := createNodes(ctx, "ssd", 2, testcluster.WithLabels(map[string]string{"ssd": "true"}))

		expectSettled(ctx, set, ssd...)
	})

	DescribeTable("runs on nodes matching a required node affinity: a zone label OR a node name",
		func(ctx SpecContext, typ v1alpha1.NodeAgentSetUpdateStrategyType) {
			set := testcluster.NewSet(ns, "affinity")
			set.Spec.UpdateStrategy = strategy(typ)
			set.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
					{MatchExpressions: []corev1.NodeSelectorRequirement{{
						Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"test"},
					}}},
					{MatchFields: []corev1.NodeSelectorRequirement{{
						Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"},
					}}},
				}},
			}}
			createSet(ctx, set)
			createNodes(ctx, "node", 2)
			createNode(ctx, "node-2", testcluster.WithLabels(map[string]string{"zone": "test"}))
			createNode(ctx, "node-3", testcluster.WithLabels(map[string]string{"zone": "test"}))
			createNode(ctx, "node-4")
			createNode(ctx, "node-5")

			expectSettled(ctx, set, "node-1", "node-2", "node-3")
		},
		strategyEntries(),
	)

	It("still runs a pod on a NotReady node", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "notready"))
		node := createNode(ctx, "not-ready-node", testcluster.NotReady())

		expectSettled(ctx, set, node)
	})

	It("skips a node with an untolerated NoSchedule taint until the taint goes", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "tainted"))
		tainted := createNode(ctx, "node-with-taint",
			testcluster.WithTaints(corev1.Taint{Key: "key1", Value: "val1", Effect: corev1.TaintEffectNoSchedule}))
		clean := createNode(ctx, "node-without-taint")

		expectSettled(ctx, set, clean)
		Consistently(ctx, func() []corev1.Pod { return view(ctx, set).ActivePodsByNode()[tainted] }).
			WithTimeout(quietPeriod).Should(BeEmpty(), "no pod on the tainted node")

		Expect(cluster.SetNodeTaints(ctx, tainted)).To(Succeed())
		expectSettled(ctx, set, clean, tainted)
	})

	It("keeps a running pod when a NoSchedule taint is added, and removes it for an untolerated NoExecute taint", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "evict"))
		nodes := createNodes(ctx, "node", 2)
		v := expectSettled(ctx, set, nodes...)
		kept := podOn(v, nodes[0])

		Expect(cluster.SetNodeTaints(ctx, nodes[0], corev1.Taint{Key: "maintenance", Effect: corev1.TaintEffectNoSchedule})).To(Succeed())
		Consistently(ctx, func() []corev1.Pod { return view(ctx, set).ActivePodsByNode()[nodes[0]] }).
			WithTimeout(quietPeriod).Should(ConsistOf(HaveField("UID", kept.UID)), "the running pod stays despite the NoSchedule taint")

		Expect(cluster.SetNodeTaints(ctx, nodes[0], corev1.Taint{Key: "maintenance", Effect: corev1.TaintEffectNoExecute})).To(Succeed())
		expectGone(ctx, &kept, settleTimeout)
		expectSettled(ctx, set, nodes[1])
	})

	It("runs a hostNetwork set on an unschedulable node and on a network-unavailable node; others skip the latter", func(ctx SpecContext) {
		hostNet := testcluster.NewSet(ns, "hostnet")
		hostNet.Spec.Template.Spec.HostNetwork = true
		createSet(ctx, hostNet)
		podNet := createSet(ctx, testcluster.NewSet(ns, "podnet"))
		unschedulable := createNode(ctx, "unschedulable-node", testcluster.Unschedulable())
		networkUnavailable := createNode(ctx, "network-unavailable-node", testcluster.NetworkUnavailable())

		expectSettled(ctx, hostNet, unschedulable, networkUnavailable)
		expectSettled(ctx, podNet, unschedulable)
	})

	It("adds and removes pods as nodes are labelled, relabelled, added and deleted", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "labels")
		set.Spec.Template.Spec.NodeSelector = map[string]string{"color": "blue"}
		createSet(ctx, set)
		blue := createNode(ctx, "node-blue", testcluster.WithLabels(map[string]string{"color": "blue"}))
		red := createNode(ctx, "node-red", testcluster.WithLabels(map[string]string{"color": "red"}))
		createNode(ctx, "node-plain")
		expectSettled(ctx, set, blue)

		By("labelling the red node blue, it gets a pod")
		Expect(cluster.SetNodeLabels(ctx, red, map[string]*string{"color": ptr.To("blue")})).To(Succeed())
		expectSettled(ctx, set, blue, red)

		By("relabelling the first node green, its pod goes")
		Expect(cluster.SetNodeLabels(ctx, blue, map[string]*string{"color": ptr.To("green")})).To(Succeed())
		expectSettled(ctx, set, red)

		By("adding a blue node, it gets a pod")
		added := createNode(ctx, "node-added", testcluster.WithLabels(map[string]string{"color": "blue"}))
		expectSettled(ctx, set, red, added)

		By("deleting a node, its pod goes and the status no longer counts it")
		Expect(cluster.DeleteNode(ctx, red)).To(Succeed())
		cluster.ExpectSettled(ctx, set, gcTimeout, added)
	})

	It("reports counts and conditions while a pod is not ready", func(ctx SpecContext) {
		// A separate kubelet leaves the pods of one node pending.
		slowNs := cluster.SpecNamespace(ctx, "status", &testcluster.KubeletOptions{
			Outcome: func(p *corev1.Pod) testcluster.PodOutcome {
				if p.Spec.NodeName == "node-2" {
					return testcluster.PodStaysPending
				}
				return testcluster.PodBecomesReady
			},
		})
		set := createSet(ctx, testcluster.NewSet(slowNs, "status"))
		createNodes(ctx, "node", 3)

		Eventually(ctx, func() (v1alpha1.NodeAgentSetStatus, error) {
			s, err := cluster.GetSet(ctx, slowNs, set.Name)
			if err != nil {
				return v1alpha1.NodeAgentSetStatus{}, err
			}
			return s.Status, nil
		}).WithTimeout(settleTimeout).Should(And(
			HaveField("DesiredNumberScheduled", BeEquivalentTo(3)),
			HaveField("CurrentNumberScheduled", BeEquivalentTo(3)),
			HaveField("UpdatedNumberScheduled", BeEquivalentTo(3)),
			HaveField("NumberReady", BeEquivalentTo(2)),
			HaveField("NumberAvailable", BeEquivalentTo(2)),
			HaveField("NumberUnavailable", BeEquivalentTo(1)),
			HaveField("NumberMisscheduled", BeEquivalentTo(0)),
			HaveField("Conditions", ContainElement(And(
				HaveField("Type", v1alpha1.ConditionReady), HaveField("Status", metav1.ConditionFalse)))),
		))

		By("once the last pod is ready, the set is Ready")
		pending := podOn(view(ctx, set), "node-2")
		Expect(cluster.MarkPodReady(ctx, slowNs, pending.Name)).To(Succeed())
		expectSettled(ctx, set, "node-0", "node-1", "node-2")
	})
})

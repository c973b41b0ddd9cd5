package daemonset

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Stalled: problems the controller cannot solve by itself are reported with Stalled=True (and Reconciling=False, so
// that kstatus readers report a failure rather than keep waiting), and the condition clears once the problem is
// gone.
var _ = Describe("stalled sets", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "stalled", &testcluster.KubeletOptions{})
	})

	It("creates no pods while the selector misses the template's labels, and runs once the labels are fixed", func(ctx SpecContext) {
		nodes := createNodes(ctx, "node", 2)
		// Without the admission webhook nothing refuses this set. Every pod made from the template would be released
		// at once (the selector does not match it) and replaced, without end.
		set := testcluster.NewSet(ns, "mismatch")
		set.Spec.Template.Labels = map[string]string{"app": "not-mismatch"}
		createSet(ctx, set)

		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(And(
			haveCondition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonSelectorMismatch),
			haveConditionStatus(v1alpha1.ConditionReconciling, metav1.ConditionFalse),
		), "the set reports the mismatch as a blocking problem")
		Consistently(ctx, func() []corev1.Pod { return podsWithLabels(ctx, ns, set.Spec.Template.Labels) }).
			WithTimeout(quietPeriod).Should(BeEmpty(), "no pod is made from a template the selector does not match")

		By("fixing the template's labels")
		_, err := cluster.UpdateSet(ctx, ns, set.Name, func(s *v1alpha1.NodeAgentSet) {
			s.Spec.Template.Labels = s.Spec.Selector.MatchLabels
		})
		Expect(err).NotTo(HaveOccurred())
		expectSettled(ctx, set, nodes...)
		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(
			haveCondition(v1alpha1.ConditionStalled, metav1.ConditionFalse, v1alpha1.ReasonRolloutComplete))
	})

	It("reports a selector the schema lets through but that cannot be used as InvalidSelector, and writes no pod", func(ctx SpecContext) {
		createNodes(ctx, "node", 2)
		// The CRD schema types matchExpressions[].operator as a plain string and values as an optional list, so
		// "In" without values is stored when no webhook runs; LabelSelectorAsSelector refuses it.
		set := testcluster.NewSet(ns, "badselector")
		set.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn},
		}}
		createSet(ctx, set)

		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(And(
			ContainElement(And(
				HaveField("Type", v1alpha1.ConditionStalled), HaveField("Status", metav1.ConditionTrue),
				HaveField("Reason", v1alpha1.ReasonInvalidSelector),
				HaveField("Message", ContainSubstring("spec.selector.matchExpressions[0].values")))),
			haveConditionStatus(v1alpha1.ConditionReconciling, metav1.ConditionFalse),
		), "the set reports its selector as a blocking problem, naming the field")
		Consistently(ctx, func() ([]corev1.Pod, error) { return cluster.ListPods(ctx, ns) }).
			WithTimeout(quietPeriod).Should(BeEmpty(), "no pod is created for a set whose selector cannot be used")
	})

	It("reports refused creates as FailedCreate, and clears that once no eligible node lacks a pod", func(ctx SpecContext) {
		set := createSet(ctx, testcluster.NewSet(ns, "quota"))
		nodes := createNodes(ctx, "node", 2)
		expectSettled(ctx, set, nodes...)

		By("a quota that admits no further pod")
		refuseNewPods(ctx, ns, len(nodes))
		extra := createNode(ctx, "node-without-room")
		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(And(
			haveCondition(v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonCreateFailed),
			haveConditionStatus(v1alpha1.ConditionReconciling, metav1.ConditionFalse),
			haveCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonPodsUnavailable),
		), "the refused create on %s stalls the set", extra)
		Eventually(ctx, hasEvent(ctx, ns, set.Name, "FailedCreate")).WithTimeout(settleTimeout).Should(BeTrue(),
			"a FailedCreate event for the set")
		Expect(view(ctx, set).ActivePodsByNode()[extra]).To(BeEmpty(), "the quota let no pod through")

		By("removing the node that lacks a pod while the quota still refuses creates")
		Expect(cluster.DeleteNode(ctx, extra)).To(Succeed())
		expectSettled(ctx, set, nodes...)
		Eventually(ctx, conditionsOf(ctx, set)).WithTimeout(settleTimeout).Should(And(
			haveCondition(v1alpha1.ConditionStalled, metav1.ConditionFalse, v1alpha1.ReasonRolloutComplete),
			haveCondition(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonRolloutComplete),
		), "a refused create no longer matters once no node waits for a pod")
	})
})

// conditionsOf polls the set's status conditions.
func conditionsOf(ctx context.Context, set *v1alpha1.NodeAgentSet) func() ([]metav1.Condition, error) {
	return func() ([]metav1.Condition, error) {
		s, err := cluster.GetSet(ctx, set.Namespace, set.Name)
		if err != nil {
			return nil, err
		}
		return s.Status.Conditions, nil
	}
}

// haveCondition matches a condition list holding the condition type with the status and reason.
func haveCondition(typ string, status metav1.ConditionStatus, reason string) types.GomegaMatcher {
	return ContainElement(And(HaveField("Type", typ), HaveField("Status", status), HaveField("Reason", reason)))
}

// haveConditionStatus matches a condition list holding the condition type with the status, whatever the reason.
func haveConditionStatus(typ string, status metav1.ConditionStatus) types.GomegaMatcher {
	return ContainElement(And(HaveField("Type", typ), HaveField("Status", status)))
}

// refuseNewPods makes the API server refuse every further pod in the namespace with a ResourceQuota of zero pods.
// No resource quota controller runs here, so the quota's status (which the quota admission plugin needs before it
// admits or refuses anything) is written by hand, counting the pods that already exist.
func refuseNewPods(ctx context.Context, namespace string, existing int) {
	GinkgoHelper()
	zero := resource.MustParse("0")
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "no-pods"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: zero}},
	}
	Expect(cluster.Client.Create(ctx, quota)).To(Succeed())
	quota.Status = corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{corev1.ResourcePods: zero},
		Used: corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(int64(existing), resource.DecimalSI)},
	}
	Expect(cluster.Client.Status().Update(ctx, quota)).To(Succeed())
}

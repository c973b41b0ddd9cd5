package packaging

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/drain"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// What docs/autoscaler-and-drain.md says of kubectl drain, checked with kubectl's drain package on real objects.
var _ = Describe("kubectl drain --ignore-daemonsets on a node with NodeAgentSet pods", func() {
	It("skips the DaemonSet's pod and evicts the NodeAgentSet's", func() {
		const ns, nodeName = "drain", "drain-node"
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Expect(k8s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}})).To(Succeed())

		labels := map[string]string{"app": "agent"}
		template := corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "registry.example.com/agent:1"}}},
		}
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent-ds"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template}}
		Expect(k8s.Create(ctx, ds)).To(Succeed())
		set := &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent-nas"},
			Spec: v1alpha1.NodeAgentSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template,
				UpdateStrategy: v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}}}
		Expect(k8s.Create(ctx, set)).To(Succeed())

		podOf := func(name string, owner *metav1.OwnerReference) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{*owner}}, Spec: template.Spec}
			pod.Spec.NodeName = nodeName
			Expect(k8s.Create(ctx, pod)).To(Succeed())
		}
		podOf("agent-ds-x", metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet")))
		podOf("agent-nas-x", metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet")))

		clientset, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		helper := &drain.Helper{Ctx: ctx, Client: clientset, IgnoreAllDaemonSets: true, Out: GinkgoWriter, ErrOut: GinkgoWriter}
		list, errs := helper.GetPodsForDeletion(nodeName)
		Expect(errs).To(BeEmpty())
		var evicted []string
		for _, p := range list.Pods() {
			evicted = append(evicted, p.Name)
		}
		Expect(evicted).To(ConsistOf("agent-nas-x"), "drain evicts the NodeAgentSet pod and skips the DaemonSet pod")
		Expect(list.Warnings()).To(ContainSubstring("ignoring DaemonSet-managed Pods: %s/agent-ds-x", ns))
	})
})

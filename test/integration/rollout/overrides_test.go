package rollout

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

const instanceTypeLabel = "node.kubernetes.io/instance-type"

func cpuOverride(name, instanceType, cpu string) v1alpha1.NodeOverride {
	return v1alpha1.NodeOverride{
		Name:         name,
		NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{instanceTypeLabel: instanceType}},
		Containers: []v1alpha1.ContainerOverride{{
			Name:      "agent",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
			Env:       []corev1.EnvVar{{Name: "AGENT_CPU", Value: cpu}},
		}},
	}
}

// podsByNode maps each node to its one active pod.
func podsByNode(v *testcluster.SetView) map[string]corev1.Pod {
	out := map[string]corev1.Pod{}
	for node, pods := range v.ActivePodsByNode() {
		Expect(pods).To(HaveLen(1), "node %s", node)
		out[node] = pods[0]
	}
	return out
}

func cpuOf(p corev1.Pod) string {
	q := p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
	return q.String()
}

func envOf(p corev1.Pod, name string) string {
	for _, e := range p.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

var _ = Describe("node overrides", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "overrides", kubeletOptions())
	})

	It("runs each node class with its resources, rolls an override change only on the nodes it covers, and undo restores it", func(ctx SpecContext) {
		large, err := cluster.CreateNodes(ctx, "large", 2, testcluster.WithLabels(map[string]string{instanceTypeLabel: "m7i.8xlarge"}))
		Expect(err).NotTo(HaveOccurred())
		small, err := cluster.CreateNodes(ctx, "small", 2, testcluster.WithLabels(map[string]string{instanceTypeLabel: "t3.small"}))
		Expect(err).NotTo(HaveOccurred())
		plain := createNodes(ctx, "plain", 1)
		all := append(append(append([]string{}, large...), small...), plain...)

		set := testcluster.NewSet(ns, "agent")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
		set.Spec.NodeOverrides = []v1alpha1.NodeOverride{cpuOverride("large", "m7i.8xlarge", "500m"), cpuOverride("small", "t3.small", "100m")}
		set = createSet(ctx, set)
		v := expectSettled(ctx, set, settleTimeout, all...)

		By("each class runs its own resources and environment; the other nodes run the template")
		before := podsByNode(v)
		for _, n := range large {
			Expect(cpuOf(before[n])).To(Equal("500m"))
			Expect(envOf(before[n], "AGENT_CPU")).To(Equal("500m"))
			Expect(before[n].Annotations).To(HaveKeyWithValue(v1alpha1.NodeOverrideAnnotation, "large"))
		}
		for _, n := range small {
			Expect(cpuOf(before[n])).To(Equal("100m"))
		}
		Expect(before[plain[0]].Spec.Containers[0].Resources.Requests).To(BeEmpty())
		Expect(before[plain[0]].Annotations).NotTo(HaveKey(v1alpha1.NodeOverrideAnnotation))
		Eventually(ctx, func(g Gomega) {
			s, err := cluster.GetSet(ctx, ns, set.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Status.NodeOverrides).To(Equal([]v1alpha1.NodeOverrideStatus{
				{Name: "large", Nodes: 2, UpdatedNodes: 2}, {Name: "small", Nodes: 2, UpdatedNodes: 2}}))
		}).WithTimeout(settleTimeout).Should(Succeed())

		By("changing the large override replaces only the large nodes' pods; the others are relabelled in place")
		set = updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			s.Spec.NodeOverrides[0] = cpuOverride("large", "m7i.8xlarge", "700m")
		})
		expectObserved(ctx, set)
		v = expectSettled(ctx, set, rolloutTimeout, all...)
		after := podsByNode(v)
		for _, n := range large {
			Expect(after[n].UID).NotTo(Equal(before[n].UID), "large node %s gets a new pod", n)
			Expect(cpuOf(after[n])).To(Equal("700m"))
		}
		for _, n := range append(append([]string{}, small...), plain...) {
			Expect(after[n].UID).To(Equal(before[n].UID), "node %s keeps its pod", n)
			p := after[n]
			Expect(v.IsUpdated(&p)).To(BeTrue())
		}

		By("rollout history shows the overrides of a revision")
		kubeconfig, err := cluster.KubeconfigPath()
		Expect(err).NotTo(HaveOccurred())
		var out bytes.Buffer
		streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &out}
		Expect(cli.Run(ctx, []string{"--kubeconfig", kubeconfig, "-n", ns, "rollout", "history", set.Name, "--revision=1"}, streams)).To(Succeed())
		Expect(out.String()).To(ContainSubstring("Node Overrides:"))
		Expect(out.String()).To(ContainSubstring("500m"))

		By("undo restores the previous override, again only on the large nodes")
		out.Reset()
		Expect(cli.Run(ctx, []string{"--kubeconfig", kubeconfig, "-n", ns, "rollout", "undo", set.Name}, streams)).To(Succeed(), out.String())
		Eventually(ctx, func(g Gomega) {
			s, err := cluster.GetSet(ctx, ns, set.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Spec.NodeOverrides[0].Containers[0].Resources.Requests.Cpu().String()).To(Equal("500m"))
			set = s
		}).WithTimeout(settleTimeout).Should(Succeed())
		expectObserved(ctx, set)
		v = expectSettled(ctx, set, rolloutTimeout, all...)
		undone := podsByNode(v)
		for _, n := range large {
			Expect(undone[n].UID).NotTo(Equal(after[n].UID))
			Expect(cpuOf(undone[n])).To(Equal("500m"))
		}
		for _, n := range append(append([]string{}, small...), plain...) {
			Expect(undone[n].UID).To(Equal(before[n].UID), "node %s keeps its pod through the undo", n)
		}

		By("a node moved to another class gets its pod replaced with that class's resources")
		Expect(cluster.SetNodeLabels(ctx, small[0], map[string]*string{instanceTypeLabel: ptrTo("m7i.8xlarge")})).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			v, err := cluster.ViewSet(ctx, ns, set.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v.CheckSettled(all)).To(Succeed())
			p := v.ActivePodsByNode()[small[0]]
			g.Expect(p).To(HaveLen(1))
			g.Expect(p[0].UID).NotTo(Equal(before[small[0]].UID))
			g.Expect(cpuOf(p[0])).To(Equal("500m"))
		}).WithTimeout(rolloutTimeout).Should(Succeed())
	})
})

func ptrTo(s string) *string { return &s }

var _ = Describe("node overrides with the same content", func() {
	It("keep a node's pod when the node moves from one to the other", func(ctx SpecContext) {
		ns := cluster.SpecNamespace(ctx, "overrides-same", kubeletOptions())
		nodes, err := cluster.CreateNodes(ctx, "amd", 2, testcluster.WithLabels(map[string]string{instanceTypeLabel: "m7i.8xlarge"}))
		Expect(err).NotTo(HaveOccurred())
		set := testcluster.NewSet(ns, "agent")
		set.Spec.NodeOverrides = []v1alpha1.NodeOverride{cpuOverride("amd", "m7i.8xlarge", "500m"), cpuOverride("arm", "m7g.8xlarge", "500m")}
		set = createSet(ctx, set)
		before := podsByNode(expectSettled(ctx, set, settleTimeout, nodes...))

		Expect(cluster.SetNodeLabels(ctx, nodes[0], map[string]*string{instanceTypeLabel: ptrTo("m7g.8xlarge")})).To(Succeed())
		Eventually(ctx, func(g Gomega) {
			v, err := cluster.ViewSet(ctx, ns, set.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v.CheckSettled(nodes)).To(Succeed())
			p := v.ActivePodsByNode()[nodes[0]]
			g.Expect(p).To(HaveLen(1))
			g.Expect(p[0].Annotations).To(HaveKeyWithValue(v1alpha1.NodeOverrideAnnotation, "arm"))
			g.Expect(p[0].UID).To(Equal(before[nodes[0]].UID))
			g.Expect(v.Set.Status.NodeOverrides).To(Equal([]v1alpha1.NodeOverrideStatus{
				{Name: "amd", Nodes: 1, UpdatedNodes: 1}, {Name: "arm", Nodes: 1, UpdatedNodes: 1}}))
		}).WithTimeout(settleTimeout).Should(Succeed())
	})
})

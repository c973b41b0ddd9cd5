//go:build e2e

package e2e

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podUIDsByNode maps each node to the UID of its live pod of the set.
func podUIDsByNode(ns, selector string) map[string]types.UID {
	GinkgoHelper()
	out := map[string]types.UID{}
	for _, p := range pods(ns, selector) {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = p.UID
		}
	}
	return out
}

// statusOf is the named container's status in pod, among its containers and init containers.
func statusOf(p corev1.Pod, name string) corev1.ContainerStatus {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.ContainerStatuses...), p.Status.InitContainerStatuses...) {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

var _ = Describe("In-place image updates on the local cluster's nodes", func() {
	It("patches a container's and a sidecar's images into the running pods, and back on undo; an init container's recreates them", func() {
		ns := createNamespace("e2e-inplace")
		name, selector := "node-exporter", "name=node-exporter"
		const exporterV2, proxyV2, setupV2 = "quay.io/prometheus/node-exporter:v1.9.0", "registry.k8s.io/pause:3.10",
			"registry.k8s.io/busybox:1.37"
		workers := workerNodes()

		mustKubectl("apply", "-n", ns, "-f", testdata("inplace.yaml"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, name, len(workers))
		}).Should(Succeed())
		before := podUIDsByNode(ns, selector)

		By("kubectl nas set image exporter=... proxy=...: the kubelet restarts both in the same pods")
		mustKubectl("nas", "set", "image", "nas/"+name, "exporter="+exporterV2, "proxy="+proxyV2, "-n", ns)
		out := mustKubectl("nas", "rollout", "status", "nas/"+name, "-n", ns, "--timeout=4m")
		Expect(strings.TrimSpace(out)).To(HaveSuffix(`nodeagentset "` + name + `" successfully rolled out`))
		Eventually(func(g Gomega) {
			ps := expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, name, len(workers))
			for _, p := range ps {
				for container, image := range map[string]string{"exporter": exporterV2, "proxy": proxyV2} {
					cs := statusOf(p, container)
					g.Expect(cs.Image).To(Equal(image), "pod %s container %s", p.Name, container)
					g.Expect(cs.RestartCount).To(BeEquivalentTo(1), "pod %s container %s", p.Name, container)
				}
				g.Expect(statusOf(p, "setup").State.Terminated).NotTo(BeNil(), "the setup container is not run again")
				reloader := statusOf(p, "reloader")
				g.Expect(reloader.RestartCount).To(BeZero(), "pod %s: the unchanged container is not restarted", p.Name)
				g.Expect(reloader.State.Running).NotTo(BeNil(), "pod %s: the unchanged container keeps running", p.Name)
			}
		}).Should(Succeed())
		Expect(podUIDsByNode(ns, selector)).To(Equal(before), "the same pods, by UID, on every node")

		By("kubectl nas rollout undo: back to the first images, in place again")
		Expect(mustKubectl("nas", "rollout", "undo", name, "-n", ns)).To(ContainSubstring("rolled back"))
		mustKubectl("nas", "rollout", "status", "nas/"+name, "-n", ns, "--timeout=4m")
		Eventually(func(g Gomega) {
			ps := expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, name, len(workers))
			for _, p := range ps {
				g.Expect(statusOf(p, "exporter").Image).To(Equal("quay.io/prometheus/node-exporter:v1.8.0"), "pod %s", p.Name)
				g.Expect(statusOf(p, "exporter").RestartCount).To(BeEquivalentTo(2), "pod %s restarted twice", p.Name)
				g.Expect(statusOf(p, "reloader").RestartCount).To(BeZero(), "pod %s", p.Name)
			}
		}).Should(Succeed())
		Expect(podUIDsByNode(ns, selector)).To(Equal(before), "still the same pods")

		By("kubectl nas set image setup=...: a completed init container is not run again, so the pods are recreated")
		mustKubectl("nas", "set", "image", "nas/"+name, "setup="+setupV2, "-n", ns)
		mustKubectl("nas", "rollout", "status", "nas/"+name, "-n", ns, "--timeout=4m")
		Eventually(func(g Gomega) {
			ps := expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, name, len(workers))
			for _, p := range ps {
				g.Expect(statusOf(p, "setup").Image).To(Equal(setupV2), "pod %s", p.Name)
				g.Expect(before).NotTo(ContainElement(p.UID), "pod %s is new", p.Name)
			}
		}).Should(Succeed())
	})
})

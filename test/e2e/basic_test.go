//go:build e2e

package e2e

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

var _ = Describe("Seed walkthrough: a basic set with an init container and hostPath volumes", func() {
	It("runs one pod per worker node, shows the DaemonSet columns and goes away with a foreground delete", func() {
		ns := createNamespace("e2e-basic")
		workers := workerNodes()
		selector := "app.kubernetes.io/name=example"

		By("kubectl apply -f basic-daemonset.yaml")
		mustKubectl("apply", "-n", ns, "-f", testdata("basic.yaml"))

		By("kubectl get pods -o wide: one Running pod on each worker node, none on the control plane")
		var list []corev1.Pod
		Eventually(func(g Gomega) {
			list = expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, "example-daemonset", len(workers))
		}).Should(Succeed())
		header, rows := table(mustKubectl("get", "pods", "-n", ns, "-l", selector, "-o", "wide"))
		Expect(header[:7]).To(Equal([]string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"}))
		var podNodes []string
		for _, r := range rows {
			Expect(r[0]).To(HavePrefix("example-daemonset-"))
			Expect(r[1:3]).To(Equal([]string{"1/1", "Running"}), "pod row %v", r)
			podNodes = append(podNodes, r[6])
		}
		Expect(podNodes).To(ConsistOf(workers))

		By("the pods carry the template: init container completed, hostPath volumes, set as controller owner")
		for _, p := range list {
			Expect(p.Status.InitContainerStatuses).To(HaveLen(1))
			Expect(p.Status.InitContainerStatuses[0].State.Terminated).NotTo(BeNil())
			Expect(p.Status.InitContainerStatuses[0].State.Terminated.Reason).To(Equal("Completed"))
			var hostPaths []string
			for _, v := range p.Spec.Volumes {
				if v.HostPath != nil {
					hostPaths = append(hostPaths, v.HostPath.Path)
				}
			}
			Expect(hostPaths).To(ConsistOf("/etc/machine-id", "/var/log"))
			owner := metav1ControllerOf(p)
			Expect(owner).NotTo(BeNil(), "pod %s has no controller owner", p.Name)
			Expect(owner.Kind).To(Equal("NodeAgentSet"))
			Expect(owner.Name).To(Equal("example-daemonset"))
		}

		By("the update strategy defaults to RollingUpdate, as for a DaemonSet")
		Expect(mustKubectl("get", "nas/example-daemonset", "-n", ns,
			"-o", `go-template={{.spec.updateStrategy.type}}{{"\n"}}`)).To(Equal("RollingUpdate\n"))

		By("kubectl get nas: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE")
		n := strconv.Itoa(len(workers))
		Eventually(func(g Gomega) {
			header, rows := table(mustKubectl("get", "nas", "-n", ns))
			g.Expect(header).To(Equal([]string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
				"NODE SELECTOR", "AGE"}))
			g.Expect(rows).To(HaveLen(1))
			g.Expect(rows[0][:6]).To(Equal([]string{"example-daemonset", n, n, n, n, n}))
			// kubectl prints <none> for a DaemonSet without a nodeSelector; a CRD column prints an absent field
			// as <none> or leaves it blank, depending on the server-side table conversion.
			g.Expect(rows[0][6]).To(Or(Equal("<none>"), BeEmpty()), "NODE SELECTOR")
		}).Should(Succeed())

		By("kubectl delete --cascade=foreground --ignore-not-found --now nodeagentsets/example-daemonset")
		mustKubectl("delete", "--cascade=foreground", "--ignore-not-found", "--now", "-n", ns,
			"nodeagentsets/example-daemonset")
		Eventually(func() []corev1.Pod { return pods(ns, selector) }).Should(BeEmpty())
		out, err := kubectl("get", "nas/example-daemonset", "-n", ns)
		Expect(err).To(HaveOccurred())
		Expect(out + err.Error()).To(ContainSubstring("NotFound"))
		Eventually(func() string {
			return strings.TrimSpace(mustKubectl("get", "controllerrevisions", "-n", ns, "-o", "name"))
		}).Should(BeEmpty(), "the set's ControllerRevisions go with it")
	})
})

//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Seed walkthrough: fluentd with and without the control-plane toleration", func() {
	selector := "name=fluentd-elasticsearch"

	It("runs a pod on the control-plane node too when the set tolerates node-role.kubernetes.io/control-plane", func() {
		ns := createNamespace("e2e-tolerate")
		nodes := allNodes()
		Expect(controlPlaneNodes()).NotTo(BeEmpty())

		mustKubectl("apply", "-n", ns, "-f", testdata("fluentd.yaml"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, nodes)
			expectSettled(g, ns, "fluentd-elasticsearch", len(nodes))
		}).Should(Succeed())
	})

	It("leaves the control-plane node out when the set only tolerates the old master taint", func() {
		ns := createNamespace("e2e-no-tolerate")
		workers := workerNodes()

		mustKubectl("apply", "-n", ns, "-f", testdata("fluentd-master-toleration.yaml"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, "fluentd-elasticsearch", len(workers))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
		}).Should(Succeed(), "no pod may appear on the control-plane node")
	})
})

//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Seed walkthrough: pods only on nodes labelled ssd=true", func() {
	It("follows node labels, a node joining and a node leaving", func() {
		ns := createNamespace("e2e-ssd")
		selector := "app=ssd-driver-pod"
		workers := workerNodes()
		node1, node2, node3 := workers[0], workers[1], workers[2]
		DeferCleanup(func() { _, _ = kubectl("label", "nodes", "--all", "ssd-") })

		expectPodsOn := func(nodes ...string) {
			GinkgoHelper()
			Eventually(func(g Gomega) {
				expectOneReadyPodPerNode(g, ns, selector, nodes)
				expectSettled(g, ns, "ssd-driver", len(nodes))
			}).Should(Succeed())
		}

		By("kubectl label nodes " + node1 + " " + node2 + " ssd=true")
		mustKubectl("label", "nodes", node1, node2, "ssd=true")

		By("creating the ssd-driver set: pods on the two labelled nodes only")
		mustKubectl("apply", "-n", ns, "-f", testdata("ssd-driver.yaml"))
		expectPodsOn(node1, node2)
		header, rows := table(mustKubectl("get", "nas", "ssd-driver", "-n", ns))
		Expect(header).To(ContainElement("NODE SELECTOR"))
		// A DaemonSet prints ssd=true; a CRD column can only print the map as JSON, {"ssd":"true"}.
		Expect(rows[0][6]).To(Or(Equal("ssd=true"), Equal(`{"ssd":"true"}`)), "NODE SELECTOR column")

		By("kubectl label nodes " + node3 + " ssd=true: the controller adds a pod there")
		mustKubectl("label", "nodes", node3, "ssd=true")
		expectPodsOn(node1, node2, node3)

		By("removing the label from " + node1 + ": its pod goes")
		mustKubectl("label", "nodes", node1, "ssd-")
		expectPodsOn(node2, node3)

		By("a new node joins with ssd=true: it gets a pod")
		mustKubectl("get", "nodes")
		createNode("e2e-ssd-node", "10.89.1.10", map[string]string{"ssd": "true"})
		expectPodsOn("e2e-ssd-node", node2, node3)

		By("the new node is deleted: its pod is removed")
		mustKubectl("delete", "node", "e2e-ssd-node")
		expectPodsOn(node2, node3)
	})
})

//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

var _ = Describe("Seed walkthrough: deleting a set with and without its pods", func() {
	selector := "app=nginx"

	It("kubectl delete --cascade=foreground removes the pods before the set", func() {
		ns := createNamespace("e2e-foreground")
		workers := workerNodes()
		mustKubectl("apply", "-n", ns, "-f", testdata("nginx.yaml"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, "nginx", len(workers))
		}).Should(Succeed())

		// kubectl waits until the set is gone; with foreground deletion that is after its pods are gone.
		mustKubectl("delete", "nas/nginx", "-n", ns, "--cascade=foreground")
		Expect(pods(ns, selector)).To(BeEmpty())
	})

	It("kubectl delete --cascade=orphan leaves the pods running, and a new set adopts them", func() {
		ns := createNamespace("e2e-orphan")
		workers := workerNodes()
		mustKubectl("apply", "-n", ns, "-f", testdata("nginx.yaml"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, "nginx", len(workers))
		}).Should(Succeed())
		before := podNamesByNode(ns, selector)

		mustKubectl("delete", "nas/nginx", "-n", ns, "--cascade=orphan")
		By("the pods stay, without an owner")
		Eventually(func(g Gomega) {
			for _, p := range pods(ns, selector) {
				g.Expect(p.OwnerReferences).To(BeEmpty(), "pod %s", p.Name)
			}
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			g.Expect(podNamesByNode(ns, selector)).To(Equal(before))
		}).Should(Succeed())

		By("re-creating the set: it adopts the orphans instead of replacing them")
		mustKubectl("apply", "-n", ns, "-f", testdata("nginx.yaml"))
		uid := string(getSet(ns, "nginx").UID)
		Eventually(func(g Gomega) {
			for _, p := range pods(ns, selector) {
				owner := metav1ControllerOf(p)
				g.Expect(owner).NotTo(BeNil(), "pod %s not adopted", p.Name)
				g.Expect(string(owner.UID)).To(Equal(uid))
			}
			expectSettled(g, ns, "nginx", len(workers))
		}).Should(Succeed())
		Expect(podNamesByNode(ns, selector)).To(Equal(before))
		Expect(pods(ns, selector)).To(HaveEach(WithTransform(func(p corev1.Pod) bool { return p.DeletionTimestamp == nil }, BeTrue())))
	})
})

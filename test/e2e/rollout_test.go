//go:build e2e

package e2e

import (
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const (
	fluentdV1 = "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"
	fluentdV2 = "quay.io/fluentd_elasticsearch/fluentd:v2.6.0"
)

// history reads `kubectl nas rollout history`: the REVISION column in order, and each revision's CHANGE-CAUSE.
func history(ns, name string) (revisions []string, causes map[string]string) {
	GinkgoHelper()
	out := mustKubectl("nas", "rollout", "history", name, "-n", ns)
	causes = map[string]string{}
	inTable := false
	for _, line := range strings.Split(out, "\n") {
		rev, cause, _ := strings.Cut(strings.TrimSpace(line), " ")
		if rev == "" {
			continue
		}
		if rev == "REVISION" {
			inTable = true
			Expect(cause).To(ContainSubstring("CHANGE-CAUSE"))
			continue
		}
		if inTable {
			revisions = append(revisions, rev)
			causes[rev] = strings.TrimSpace(cause)
		}
	}
	Expect(inTable).To(BeTrue(), "no REVISION header in:\n%s", out)
	return revisions, causes
}

func historyRevisions(ns, name string) []string {
	GinkgoHelper()
	revisions, _ := history(ns, name)
	return revisions
}

// controllerRevisionNumbers lists the .revision of the set's ControllerRevisions, sorted.
func controllerRevisionNumbers(ns, selector string) []string {
	GinkgoHelper()
	revs := strings.Fields(mustKubectl("get", "controllerrevisions", "-n", ns, "-l", selector,
		"-o", "jsonpath={.items[*].revision}"))
	sort.Strings(revs)
	return revs
}

var _ = Describe("Seed walkthrough: rolling update, history and rollback", func() {
	It("rolls out kubectl nas set image, lists the history and rolls back with undo --to-revision", func() {
		ns := createNamespace("e2e-rollout")
		name, selector, container := "fluentd-elasticsearch", "name=fluentd-elasticsearch", "fluentd-elasticsearch"
		nodes := allNodes()

		By("the manifest's update strategy is RollingUpdate (--dry-run=client)")
		Expect(mustKubectl("apply", "-n", ns, "-f", testdata("fluentd.yaml"), "--dry-run=client",
			"-o", `go-template={{.spec.updateStrategy.type}}{{"\n"}}`)).To(Equal("RollingUpdate\n"))

		By("creating the set and checking its update strategy on the server")
		mustKubectl("apply", "-n", ns, "-f", testdata("fluentd.yaml"))
		Expect(mustKubectl("get", "nas/"+name, "-n", ns, "-o", `go-template={{.spec.updateStrategy.type}}{{"\n"}}`)).
			To(Equal("RollingUpdate\n"))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, nodes)
			expectSettled(g, ns, name, len(nodes))
		}).Should(Succeed())
		Expect(images(ns, selector, container)).To(Equal(allImages(nodes, fluentdV1)))

		By("kubectl nas set image " + name + " " + container + "=" + fluentdV2 + " --record")
		mustKubectl("nas", "set", "image", "nas/"+name, container+"="+fluentdV2, "-n", ns, "--record")

		By("kubectl nas rollout status: waits for the rollout and reports success")
		out := mustKubectl("nas", "rollout", "status", "nas/"+name, "-n", ns, "--timeout=4m")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		Expect(lines[len(lines)-1]).To(Equal(`nodeagentset "` + name + `" successfully rolled out`))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, nodes)
			g.Expect(images(ns, selector, container)).To(Equal(allImages(nodes, fluentdV2)))
		}).Should(Succeed())

		By("kubectl nas rollout history: revisions 1 and 2; --revision=1 shows the first image")
		revisions, causes := history(ns, name)
		Expect(revisions).To(Equal([]string{"1", "2"}))
		Expect(causes["1"]).To(Equal("<none>"))
		Expect(causes["2"]).To(And(ContainSubstring("set image"), ContainSubstring(fluentdV2)),
			"--record puts the command into the change-cause of the revision it made")
		Expect(mustKubectl("nas", "rollout", "history", name, "-n", ns, "--revision=1")).To(ContainSubstring(fluentdV1))
		Expect(controllerRevisionNumbers(ns, selector)).To(Equal([]string{"1", "2"}))

		By("kubectl nas rollout undo --to-revision=1")
		Expect(mustKubectl("nas", "rollout", "undo", name, "-n", ns, "--to-revision=1")).To(ContainSubstring("rolled back"))
		out = mustKubectl("nas", "rollout", "status", name, "-n", ns, "--timeout=4m")
		Expect(out).To(ContainSubstring(`nodeagentset "` + name + `" successfully rolled out`))
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, nodes)
			g.Expect(images(ns, selector, container)).To(Equal(allImages(nodes, fluentdV1)))
			expectSettled(g, ns, name, len(nodes))
		}).Should(Succeed())

		By("revisions roll forward: revision 1 became revision 3")
		Expect(historyRevisions(ns, name)).To(Equal([]string{"2", "3"}))
		Expect(controllerRevisionNumbers(ns, selector)).To(Equal([]string{"2", "3"}))

		By("an unknown revision is refused")
		_, err := kubectl("nas", "rollout", "undo", name, "-n", ns, "--to-revision=7")
		Expect(err).To(HaveOccurred())
	})

	It("with OnDelete, changes a pod only when it is deleted", func() {
		ns := createNamespace("e2e-ondelete")
		name, selector, container := "fluentd-ondelete", "name=fluentd-ondelete", "fluentd-elasticsearch"
		workers := workerNodes()

		mustKubectl("apply", "-n", ns, "-f", testdata("fluentd-ondelete.yaml"))
		var before map[string]string
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			expectSettled(g, ns, name, len(workers))
		}).Should(Succeed())
		before = podNamesByNode(ns, selector)

		By("kubectl nas set image: no pod is replaced")
		mustKubectl("nas", "set", "image", name, container+"="+fluentdV2, "-n", ns)
		Eventually(func(g Gomega) {
			set := getSet(ns, name)
			g.Expect(set.Status.ObservedGeneration).To(Equal(set.Generation))
			g.Expect(set.Status.UpdatedNumberScheduled).To(BeZero())
		}).Should(Succeed())
		Consistently(func() map[string]string { return podNamesByNode(ns, selector) }).Should(Equal(before))
		Expect(images(ns, selector, container)).To(Equal(allImages(workers, fluentdV1)))

		By("deleting the pod on " + workers[0] + ": its replacement runs the new image, the others keep the old one")
		mustKubectl("delete", "pod", before[workers[0]], "-n", ns)
		want := allImages(workers, fluentdV1)
		want[workers[0]] = fluentdV2
		Eventually(func(g Gomega) {
			expectOneReadyPodPerNode(g, ns, selector, workers)
			g.Expect(images(ns, selector, container)).To(Equal(want))
			g.Expect(getSet(ns, name).Status.UpdatedNumberScheduled).To(BeEquivalentTo(1))
		}).Should(Succeed())
		after := podNamesByNode(ns, selector)
		for _, n := range workers[1:] {
			Expect(after[n]).To(Equal(before[n]), "the pod on %s was replaced", n)
		}
	})
})

// podNamesByNode is node -> pod name for the live pods of ns/selector.
func podNamesByNode(ns, selector string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, p := range pods(ns, selector) {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = p.Name
		}
	}
	return out
}

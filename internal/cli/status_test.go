package cli_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
)

var _ = Describe("rollout status", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})

	It("fails with the API server's NotFound error for a missing set", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "rollout", "status", "missing")
		Expect(err).To(HaveOccurred())
		Expect(cli.FormatError(err)).To(Equal(`Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "missing" not found`))
	})

	It("prints the status once with --watch=false", func(ctx SpecContext) {
		create(ctx, exampleSet(ns, "agent"))
		out, err := kubectlNas(ctx, ns, "rollout", "status", "agent", "--watch=false")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("Waiting for nodeagentset spec update to be observed...\n"))
	})

	It("prints each step of a rollout until it is done", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		writeStatus(ctx, set, counts(3, 1, 2))

		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			done <- runInto(ctx, out, ns, "rollout", "status", "nas/agent")
		}()
		// Each status change waits for the line of the previous one, so the output cannot skip a step.
		Eventually(out.String).WithTimeout(time.Minute).Should(Equal(
			"Waiting for nodeagentset \"agent\" rollout to finish: 1 out of 3 new pods have been updated...\n"))
		writeStatus(ctx, set, counts(3, 3, 2))
		Eventually(out.String).WithTimeout(time.Minute).Should(HaveSuffix(
			"Waiting for nodeagentset \"agent\" rollout to finish: 2 of 3 updated pods are available...\n"))
		// A status write that changes nothing visible prints nothing.
		writeStatus(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Status.NumberReady = 3 })
		writeStatus(ctx, set, counts(3, 3, 3))
		Eventually(done).WithTimeout(time.Minute).Should(Receive(BeNil()))
		Expect(out.String()).To(Equal(strings.Join([]string{
			`Waiting for nodeagentset "agent" rollout to finish: 1 out of 3 new pods have been updated...`,
			`Waiting for nodeagentset "agent" rollout to finish: 2 of 3 updated pods are available...`,
			`nodeagentset "agent" successfully rolled out`,
			"",
		}, "\n")))
	})

	It("waits for the controller to observe a new generation", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		writeStatus(ctx, set, counts(2, 2, 2))
		set = patchSet(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Spec.MinReadySeconds = 10 })
		writeStatus(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Status.ObservedGeneration = s.Generation - 1 })

		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			done <- runInto(ctx, out, ns, "rollout", "status", "agent")
		}()
		Eventually(out.String).WithTimeout(time.Minute).Should(Equal("Waiting for nodeagentset spec update to be observed...\n"))
		writeStatus(ctx, set, counts(2, 2, 2))
		Eventually(done).WithTimeout(time.Minute).Should(Receive(BeNil()))
		Expect(out.String()).To(HaveSuffix("nodeagentset \"agent\" successfully rolled out\n"))
	})

	It("gives up with an error after --timeout", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		writeStatus(ctx, set, counts(3, 1, 3))
		out, err := kubectlNas(ctx, ns, "rollout", "status", "agent", "--timeout=2s")
		Expect(err).To(MatchError(`timed out after 2s waiting for nodeagentset "agent" rollout to finish`))
		Expect(cli.FormatError(err)).To(Equal(`error: timed out after 2s waiting for nodeagentset "agent" rollout to finish`))
		Expect(out).To(Equal("Waiting for nodeagentset \"agent\" rollout to finish: 1 out of 3 new pods have been updated...\n"))
	})

	It("fails when the set is deleted while it waits", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		writeStatus(ctx, set, counts(3, 1, 3))
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			done <- runInto(ctx, out, ns, "rollout", "status", "agent")
		}()
		Eventually(out.String).WithTimeout(time.Minute).ShouldNot(BeEmpty())
		Expect(k8sClient.Delete(ctx, set)).To(Succeed())
		var err error
		Eventually(done).WithTimeout(time.Minute).Should(Receive(&err))
		Expect(err).To(MatchError(`nodeagentsets.apps.nodeagentset.io "agent" was deleted while waiting for its rollout to finish`))
	})

	It("reports a paused rollout as an error instead of waiting", func(ctx SpecContext) {
		set := exampleSet(ns, "agent")
		set.Spec.UpdateStrategy.RollingUpdate.Paused = true
		writeStatus(ctx, create(ctx, set), counts(4, 1, 4))
		_, err := kubectlNas(ctx, ns, "rollout", "status", "agent")
		Expect(err).To(MatchError(`nodeagentset "agent" rollout is paused with 1 out of 4 new pods updated: run "kubectl nas rollout resume agent" to continue it`))
	})

	It("ends a partitioned rollout once the nodes outside the partition are updated", func(ctx SpecContext) {
		set := exampleSet(ns, "agent")
		partition := intstr.FromString("50%")
		set.Spec.UpdateStrategy.RollingUpdate.Partition = &partition
		writeStatus(ctx, create(ctx, set), counts(4, 2, 4))
		out, err := kubectlNas(ctx, ns, "rollout", "status", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset \"agent\" partitioned roll out complete: 2 new pods have been updated, 2 kept at the old revision by the partition\n"))
	})

	It("refuses an OnDelete set", func(ctx SpecContext) {
		set := exampleSet(ns, "agent")
		set.Spec.UpdateStrategy = v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}
		writeStatus(ctx, create(ctx, set), counts(2, 1, 2))
		_, err := kubectlNas(ctx, ns, "rollout", "status", "agent")
		Expect(err).To(MatchError(ContainSubstring("uses the OnDelete update strategy")))
	})

	It("checks --revision against the update revision", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.8"), 1, "")
		current := createRevision(ctx, set, set.Spec.Template, 2, "")
		writeStatus(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			counts(2, 2, 2)(s)
			s.Status.UpdateRevision = current.Name
		})

		_, err := kubectlNas(ctx, ns, "rollout", "status", "agent", "--revision=1")
		Expect(err).To(MatchError("desired revision (1) is different from the running revision (2)"))
		out, err := kubectlNas(ctx, ns, "rollout", "status", "agent", "--revision=2")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset \"agent\" successfully rolled out\n"))
	})

	It("rejects a name of another kind", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "rollout", "status", "ds/agent")
		Expect(err).To(MatchError(ContainSubstring(`resource type "ds" is not a NodeAgentSet`)))
	})
})

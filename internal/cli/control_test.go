package cli_test

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
)

var _ = Describe("rollout pause, resume and restart", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})

	paused := func(set *v1alpha1.NodeAgentSet) bool {
		ru := set.Spec.UpdateStrategy.RollingUpdate
		return ru != nil && ru.Paused
	}

	It("pauses and resumes, and says when there is nothing to do", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))

		out, err := kubectlNas(ctx, ns, "rollout", "pause", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent paused\n"))
		Expect(paused(get(ctx, set))).To(BeTrue())
		// Pausing keeps the rest of the strategy.
		Expect(get(ctx, set).Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(Equal(set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable))

		_, err = kubectlNas(ctx, ns, "rollout", "pause", "agent")
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentsets.apps.nodeagentset.io "agent" is already paused`))

		out, err = kubectlNas(ctx, ns, "rollout", "resume", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent resumed\n"))
		Expect(paused(get(ctx, set))).To(BeFalse())

		_, err = kubectlNas(ctx, ns, "rollout", "resume", "agent")
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentsets.apps.nodeagentset.io "agent" is not paused`))
	})

	It("refuses to pause an OnDelete set", func(ctx SpecContext) {
		set := exampleSet(ns, "agent")
		set.Spec.UpdateStrategy = v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}
		set = create(ctx, set)
		_, err := kubectlNas(ctx, ns, "rollout", "pause", "agent")
		Expect(err).To(MatchError(ContainSubstring("cannot be paused: spec.updateStrategy.type is OnDelete")))
		Expect(paused(get(ctx, set))).To(BeFalse())
	})

	It("restarts by stamping the pod template", func(ctx SpecContext) {
		set := create(ctx, exampleSet(ns, "agent"))
		out, err := kubectlNas(ctx, ns, "rollout", "restart", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent restarted\n"))

		after := get(ctx, set)
		stamp := after.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation]
		_, err = time.Parse(time.RFC3339, stamp)
		Expect(err).NotTo(HaveOccurred(), "restartedAt %q", stamp)
		Expect(after.Generation).To(Equal(set.Generation + 1))
	})

	It("refuses to restart a paused set", func(ctx SpecContext) {
		set := exampleSet(ns, "agent")
		set.Spec.UpdateStrategy.RollingUpdate.Paused = true
		create(ctx, set)
		_, err := kubectlNas(ctx, ns, "rollout", "restart", "agent")
		Expect(err).To(MatchError(ContainSubstring("can't restart paused")))
	})

	for _, verb := range []string{"pause", "resume", "restart"} {
		It("fails with NotFound for a missing set: "+verb, func(ctx SpecContext) {
			_, err := kubectlNas(ctx, ns, "rollout", verb, "missing")
			Expect(cli.FormatError(err)).To(Equal(`Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "missing" not found`))
		})
	}
})

var _ = Describe("rollout promote", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})

	canarySet := func(ctx SpecContext) *v1alpha1.NodeAgentSet {
		set := exampleSet(ns, "agent")
		set.Spec.UpdateStrategy.RollingUpdate.Canary = &v1alpha1.NodeAgentSetCanary{Promotion: v1alpha1.CanaryPromotionManual}
		return create(ctx, set)
	}
	canaryPhase := func(phase v1alpha1.CanaryPhase) func(*v1alpha1.NodeAgentSet) {
		return func(s *v1alpha1.NodeAgentSet) {
			s.Status.UpdateRevision = "agent-6b7c9d"
			s.Status.Canary = &v1alpha1.NodeAgentSetCanaryStatus{Revision: "agent-6b7c9d", Nodes: 1, Phase: phase,
				StartedAt: metav1.Now()}
		}
	}

	It("writes the annotation for the update revision of a canary that waits", func(ctx SpecContext) {
		set := canarySet(ctx)
		writeStatus(ctx, set, canaryPhase(v1alpha1.CanaryPhaseWaitingForPromotion))
		out, err := kubectlNas(ctx, ns, "rollout", "promote", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent promoted\n"))
		Expect(get(ctx, set).Annotations).To(HaveKeyWithValue(v1alpha1.PromoteRevisionAnnotation, "agent-6b7c9d"))
	})

	It("refuses when no canary waits", func(ctx SpecContext) {
		set := canarySet(ctx)
		writeStatus(ctx, set, canaryPhase(v1alpha1.CanaryPhaseRunning))
		_, err := kubectlNas(ctx, ns, "rollout", "promote", "agent")
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentsets.apps.nodeagentset.io "agent" has no canary waiting for promotion: ` +
			"the canary of revision agent-6b7c9d is Running"))
		Expect(get(ctx, set).Annotations).NotTo(HaveKey(v1alpha1.PromoteRevisionAnnotation))
	})
})

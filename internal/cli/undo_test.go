package cli_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
)

var _ = Describe("rollout undo", func() {
	var (
		ns  string
		set *v1alpha1.NodeAgentSet
	)
	// The seed walkthrough's history: revision 1 ran pause:3.8, revision 2 (the set's template now) runs pause:3.9,
	// and revision 3 was a bad image that was already reverted by hand.
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		base := exampleSet(ns, "agent")
		base.Annotations = map[string]string{"owner": "platform", v1alpha1.ChangeCauseAnnotation: "revert by hand"}
		set = create(ctx, base)
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.8"), 1, "")
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:typo"), 2, "bad image")
		createRevision(ctx, set, set.Spec.Template, 3, "revert by hand")
	})

	It("restores the template of --to-revision and keeps the rest of the set", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "rollout", "undo", "agent", "--to-revision=1")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset \"agent\" rolled back\n"))

		after := get(ctx, set)
		Expect(equality.Semantic.DeepEqual(after.Spec.Template, withImage(set, "pause", "registry.k8s.io/pause:3.8"))).To(BeTrue(),
			"template after undo: %+v", after.Spec.Template)
		Expect(after.Spec.MinReadySeconds).To(Equal(set.Spec.MinReadySeconds))
		Expect(after.Spec.UpdateStrategy).To(Equal(set.Spec.UpdateStrategy))
		Expect(after.Annotations).To(HaveKeyWithValue("owner", "platform"))
		// Revision 1 had no change-cause, so the set's is dropped: the controller must not copy "revert by hand"
		// into the revision it renumbers for this rollback.
		Expect(after.Annotations).NotTo(HaveKey(v1alpha1.ChangeCauseAnnotation))
		Expect(after.Labels).To(Equal(set.Labels))
	})

	It("goes back to the revision before the newest without --to-revision", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "rollout", "undo", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset \"agent\" rolled back\n"))
		after := get(ctx, set)
		Expect(after.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.k8s.io/pause:typo"))
		Expect(after.Annotations).To(HaveKeyWithValue(v1alpha1.ChangeCauseAnnotation, "bad image"))
	})

	It("skips the rollback when the template already matches", func(ctx SpecContext) {
		before := get(ctx, set)
		out, err := kubectlNas(ctx, ns, "rollout", "undo", "agent", "--to-revision=3")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent skipped rollback (current template already matches revision 3)\n"))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})

	It("fails for an unknown revision and leaves the set alone", func(ctx SpecContext) {
		before := get(ctx, set)
		_, err := kubectlNas(ctx, ns, "rollout", "undo", "agent", "--to-revision=9")
		Expect(err).To(HaveOccurred())
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentset "agent": unable to find revision 9 in the history (known revisions: 1, 2, 3)`))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})

	It("fails when there is no earlier revision", func(ctx SpecContext) {
		lone := create(ctx, exampleSet(ns, "lone"))
		createRevision(ctx, lone, lone.Spec.Template, 1, "")
		_, err := kubectlNas(ctx, ns, "rollout", "undo", "lone")
		Expect(err).To(MatchError(`nodeagentset "lone": no last revision to roll back to (known revisions: 1)`))
	})

	It("fails with NotFound for a missing set", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "rollout", "undo", "missing", "--to-revision=1")
		Expect(cli.FormatError(err)).To(Equal(`Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "missing" not found`))
	})
})

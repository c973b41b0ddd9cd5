package cli_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
)

var _ = Describe("set image", func() {
	var (
		ns  string
		set *v1alpha1.NodeAgentSet
	)
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		set = create(ctx, exampleSet(ns, "agent"))
	})

	images := func(ctx context.Context) (init, main string) {
		s := get(ctx, set)
		return s.Spec.Template.Spec.InitContainers[0].Image, s.Spec.Template.Spec.Containers[0].Image
	}

	It("changes containers and init containers", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "log-machine-id=busybox:1.36")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent image updated\n"))
		initImage, mainImage := images(ctx)
		Expect(initImage).To(Equal("busybox:1.36"))
		Expect(mainImage).To(Equal("registry.k8s.io/pause:3.10"))
		Expect(get(ctx, set).Annotations).NotTo(HaveKey(v1alpha1.ChangeCauseAnnotation))
	})

	It("changes every container with *", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "set", "image", "agent", "*=busybox:1.37")
		Expect(err).NotTo(HaveOccurred())
		initImage, mainImage := images(ctx)
		Expect([]string{initImage, mainImage}).To(Equal([]string{"busybox:1.37", "busybox:1.37"}))
	})

	It("records the command as the change-cause with --record", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "--record")
		Expect(err).NotTo(HaveOccurred())
		Expect(get(ctx, set).Annotations).To(HaveKeyWithValue(v1alpha1.ChangeCauseAnnotation,
			"kubectl nas set image agent pause=registry.k8s.io/pause:3.10 --namespace="+ns+" --record=true"))

		// Without --record, an existing change-cause is brought up to date rather than left describing the old change.
		_, err = kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.11")
		Expect(err).NotTo(HaveOccurred())
		Expect(get(ctx, set).Annotations).To(HaveKeyWithValue(v1alpha1.ChangeCauseAnnotation,
			"kubectl nas set image agent pause=registry.k8s.io/pause:3.11 --namespace="+ns))
	})

	It("fails for an unknown container and changes nothing", func(ctx SpecContext) {
		before := get(ctx, set)
		_, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "nginx=nginx:1.27")
		Expect(err).To(HaveOccurred())
		Expect(cli.FormatError(err)).To(Equal(`error: unable to find container named "nginx"`))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})

	It("reports an image that is already set without writing", func(ctx SpecContext) {
		before := get(ctx, set)
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.9", "--record")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent image unchanged\n"))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})

	It("fails with NotFound for a missing set", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "set", "image", "missing", "pause=registry.k8s.io/pause:3.10")
		Expect(cli.FormatError(err)).To(Equal(`Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "missing" not found`))
	})

	It("fails for malformed arguments before contacting the cluster", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "set", "image", "agent")
		Expect(err).To(MatchError("at least one image update is required: CONTAINER=IMAGE"))
	})
})

package cli_test

import (
	"encoding/json"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/describe"
)

var _ = Describe("-o and --dry-run", func() {
	var (
		ns  string
		set *v1alpha1.NodeAgentSet
	)
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		set = create(ctx, exampleSet(ns, "agent"))
	})

	It("set image -o yaml prints the changed set as the API server returned it", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "-o", "yaml")
		Expect(err).NotTo(HaveOccurred())
		printed := &v1alpha1.NodeAgentSet{}
		Expect(yaml.UnmarshalStrict([]byte(out), printed)).To(Succeed(), out)
		Expect(printed.APIVersion).To(Equal(v1alpha1.GroupVersion.String()))
		Expect(printed.Kind).To(Equal("NodeAgentSet"))
		Expect(printed.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.k8s.io/pause:3.10"))
		Expect(printed.ResourceVersion).To(Equal(get(ctx, set).ResourceVersion))
	})

	It("set image -o json and -o name", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		printed := &v1alpha1.NodeAgentSet{}
		Expect(json.Unmarshal([]byte(out), printed)).To(Succeed(), out)
		Expect(printed.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.k8s.io/pause:3.10"))

		out, err = kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.11", "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent\n"))
	})

	It("set image --dry-run=client shows the change and sends nothing", func(ctx SpecContext) {
		before := get(ctx, set)
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "--dry-run=client")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent image updated (dry run)\n"))

		out, err = kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "--dry-run=client", "-o", "yaml")
		Expect(err).NotTo(HaveOccurred())
		printed := &v1alpha1.NodeAgentSet{}
		Expect(yaml.Unmarshal([]byte(out), printed)).To(Succeed())
		Expect(printed.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.k8s.io/pause:3.10"))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})

	It("set image --dry-run=server lets the API server check the change without storing it", func(ctx SpecContext) {
		before := get(ctx, set)
		out, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "--dry-run=server")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent image updated (server dry run)\n"))
		after := get(ctx, set)
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
		Expect(after.Spec.Template.Spec.Containers[0].Image).To(Equal(before.Spec.Template.Spec.Containers[0].Image))
	})

	It("refuses an unknown --dry-run value and an unknown -o format", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "--dry-run=maybe")
		Expect(err).To(MatchError(`invalid --dry-run value "maybe": must be "none", "server", or "client"`))
		_, err = kubectlNas(ctx, ns, "rollout", "history", "agent", "-o", "table")
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`unable to match a printer suitable for the output format "table"`))
		before := get(ctx, set)
		_, err = kubectlNas(ctx, ns, "set", "image", "agent", "pause=registry.k8s.io/pause:3.10", "-o", "table")
		Expect(err).To(HaveOccurred())
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion), "a bad -o changes nothing")
	})

	It("rollout history -o name lists the revisions, --revision -o json prints one", func(ctx SpecContext) {
		first := createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.8"), 1, "")
		second := createRevision(ctx, set, set.Spec.Template, 2, "")

		out, err := kubectlNas(ctx, ns, "rollout", "history", "agent", "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("controllerrevision.apps/" + first.Name + "\ncontrollerrevision.apps/" + second.Name + "\n"))

		out, err = kubectlNas(ctx, ns, "rollout", "history", "agent", "--revision=1", "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		rev := &appsv1.ControllerRevision{}
		Expect(json.Unmarshal([]byte(out), rev)).To(Succeed(), out)
		Expect(rev.Kind).To(Equal("ControllerRevision"))
		Expect(rev.Name).To(Equal(first.Name))
		Expect(rev.Revision).To(BeEquivalentTo(1))
	})

	It("rollout undo --dry-run=client shows the template it would restore, --dry-run=server changes nothing", func(ctx SpecContext) {
		old := withImage(set, "pause", "registry.k8s.io/pause:3.8")
		createRevision(ctx, set, old, 1, "")
		createRevision(ctx, set, set.Spec.Template, 2, "")
		before := get(ctx, set)

		out, err := kubectlNas(ctx, ns, "rollout", "undo", "agent", "--dry-run=client")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal(describe.PodTemplate(&old) + "nodeagentset \"agent\" rolled back (dry run)\n"))

		out, err = kubectlNas(ctx, ns, "rollout", "undo", "agent", "--dry-run=server")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset \"agent\" rolled back (server dry run)\n"))
		Expect(get(ctx, set).ResourceVersion).To(Equal(before.ResourceVersion))
	})
})

var _ = Describe("completion", func() {
	DescribeTable("prints a completion script for the shell",
		func(ctx SpecContext, shell, marker string) {
			out, err := kubectlNas(ctx, "default", "completion", shell)
			Expect(err).NotTo(HaveOccurred())
			Expect(out).To(ContainSubstring(marker))
		},
		Entry(nil, "bash", "__start_kubectl-nas"),
		Entry(nil, "zsh", "#compdef kubectl-nas"),
		Entry(nil, "fish", "complete -c kubectl-nas"),
	)

	It("completes commands and set names", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		create(ctx, exampleSet(ns, "agent"))
		create(ctx, exampleSet(ns, "logger"))

		out, err := kubectlNas(ctx, ns, "__complete", "rollout", "")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(out)).To(ContainElements("status", "history", "undo", "pause", "resume", "restart"))

		out, err = kubectlNas(ctx, ns, "__complete", "rollout", "status", "a")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Split(strings.TrimSpace(out), "\n")).To(Equal([]string{"agent", ":4"}))
	})
})

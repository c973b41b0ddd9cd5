package cli_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
	"github.com/nodeagentset/nodeagentset/internal/cli/describe"
)

var _ = Describe("rollout history", func() {
	var (
		ns  string
		set *v1alpha1.NodeAgentSet
	)
	BeforeEach(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		set = create(ctx, exampleSet(ns, "agent"))
	})

	It("lists the set's revisions by number with their change-causes", func(ctx SpecContext) {
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.10"), 3,
			"kubectl nas set image agent pause=registry.k8s.io/pause:3.10 --record=true")
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.8"), 1, "")
		createRevision(ctx, set, set.Spec.Template, 2, "")
		// A revision with the same labels that another set controls is not this set's history.
		other := create(ctx, exampleSet(ns, "other"))
		foreign := createRevision(ctx, other, withImage(set, "pause", "registry.k8s.io/pause:3.7"), 7, "")
		Expect(foreign.Labels).To(HaveKeyWithValue("app.kubernetes.io/name", "agent"))

		out, err := kubectlNas(ctx, ns, "rollout", "history", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal(strings.Join([]string{
			"nodeagentset.apps.nodeagentset.io/agent",
			"REVISION  CHANGE-CAUSE",
			"1         <none>",
			"2         <none>",
			"3         kubectl nas set image agent pause=registry.k8s.io/pause:3.10 --record=true",
			"",
		}, "\n")))
	})

	It("prints one revision's pod template with --revision", func(ctx SpecContext) {
		old := withImage(set, "pause", "registry.k8s.io/pause:3.8")
		createRevision(ctx, set, old, 1, "")
		createRevision(ctx, set, set.Spec.Template, 2, "")

		out, err := kubectlNas(ctx, ns, "rollout", "history", "agent", "--revision=1")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent with revision #1\n" + describe.PodTemplate(&old)))
		Expect(out).To(ContainSubstring("Image:        registry.k8s.io/pause:3.8\n"))
	})

	It("reads a revision written in the DaemonSet controller's patch format", func(ctx SpecContext) {
		// Written by hand from the storage contract rather than by internal/revision, to pin the format.
		isController := true
		rev := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: "agent-5d8f7c9b6",
				Labels: map[string]string{"app.kubernetes.io/name": "agent", v1alpha1.ControllerRevisionHashLabel: "5d8f7c9b6"},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: v1alpha1.GroupVersion.String(), Kind: "NodeAgentSet", Name: "agent", UID: set.UID,
					Controller: &isController,
				}},
			},
			Revision: 4,
			Data: runtime.RawExtension{Raw: []byte(`{"spec":{"template":{"$patch":"replace",` +
				`"metadata":{"labels":{"app.kubernetes.io/name":"agent"}},` +
				`"spec":{"containers":[{"name":"pause","image":"registry.k8s.io/pause:3.6"}]}}}}`)},
		}
		Expect(k8sClient.Create(ctx, rev)).To(Succeed())

		out, err := kubectlNas(ctx, ns, "rollout", "history", "agent", "--revision=4")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(HavePrefix("nodeagentset.apps.nodeagentset.io/agent with revision #4\nPod Template:\n  Labels:  app.kubernetes.io/name=agent\n"))
		Expect(out).To(ContainSubstring("registry.k8s.io/pause:3.6"))
	})

	It("says so when there is no history", func(ctx SpecContext) {
		out, err := kubectlNas(ctx, ns, "rollout", "history", "agent")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/agent\nNo rollout history found.\n"))
	})

	It("fails for an unknown revision, naming the known ones", func(ctx SpecContext) {
		createRevision(ctx, set, withImage(set, "pause", "registry.k8s.io/pause:3.8"), 1, "")
		createRevision(ctx, set, set.Spec.Template, 2, "")
		_, err := kubectlNas(ctx, ns, "rollout", "history", "agent", "--revision=7")
		Expect(err).To(HaveOccurred())
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentset "agent": unable to find revision 7 in the history (known revisions: 1, 2)`))
	})

	It("fails with NotFound for a missing set", func(ctx SpecContext) {
		_, err := kubectlNas(ctx, ns, "rollout", "history", "missing")
		Expect(cli.FormatError(err)).To(Equal(`Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "missing" not found`))
	})
})

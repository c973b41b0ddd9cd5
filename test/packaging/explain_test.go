package packaging

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/cmd/apply"
	"k8s.io/kubectl/pkg/cmd/explain"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// crdFile is the CRD controller-gen writes (make manifests), as users apply it.
const crdFile = "config/crd/bases/apps.nodeagentset.io_nodeagentsets.yaml"

// lastAppliedLimit is the API server's limit on all of an object's annotations together; client-side
// kubectl apply stores the whole object in one of them.
const lastAppliedLimit = 256 * 1024

// kubeconfigFor writes a kubeconfig for the envtest API server, as kubectl reads it.
func kubeconfigFor() string {
	GinkgoHelper()
	user, err := testEnv.AddUser(envtest.User{Name: "kubectl-user", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(path, kubeconfig, 0o600)).To(Succeed())
	return path
}

// kubectlFactory is a kubectl command factory for the kubeconfig, with no discovery or OpenAPI cache on disk, so
// each factory reads the server afresh.
func kubectlFactory(kubeconfig string) cmdutil.Factory {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	return cmdutil.NewFactory(flags)
}

// undocumentedFields lists the schema paths below root that have no description, skipping the pod template's
// fields (dropped on purpose; `kubectl explain pod` has them) and the metadata kubernetes documents itself.
func undocumentedFields(path string, schema apiextensionsv1.JSONSchemaProps) []string {
	if path == "nas.metadata" {
		return nil // the API server publishes ObjectMeta's own documentation for it
	}
	var missing []string
	if strings.TrimSpace(schema.Description) == "" {
		missing = append(missing, path)
	}
	if path == "nas.spec.template" {
		return missing
	}
	for name, sub := range schema.Properties {
		missing = append(missing, undocumentedFields(path+"."+name, sub)...)
	}
	if schema.Items != nil && schema.Items.Schema != nil {
		for name, sub := range schema.Items.Schema.Properties {
			missing = append(missing, undocumentedFields(path+"."+name, sub)...)
		}
	}
	return missing
}

var _ = Describe("The NodeAgentSet CRD with kubectl", Ordered, func() {
	var kubeconfig string

	BeforeAll(func() {
		kubeconfig = kubeconfigFor()
	})

	It("documents every NodeAgentSet field outside the pod template", func() {
		data, err := os.ReadFile(filepath.Join(repoRoot(GinkgoT()), crdFile))
		Expect(err).NotTo(HaveOccurred())
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(yaml.Unmarshal(data, crd)).To(Succeed())
		Expect(crd.Spec.Versions).NotTo(BeEmpty())
		for _, v := range crd.Spec.Versions {
			missing := undocumentedFields("nas", *v.Schema.OpenAPIV3Schema)
			sort.Strings(missing)
			Expect(missing).To(BeEmpty(), "%s: fields without a description (kubectl explain prints <empty>)", v.Name)
			template := v.Schema.OpenAPIV3Schema.Properties["spec"].Properties["template"]
			Expect(template.Properties["spec"].Description).To(BeEmpty(),
				"the pod template's own fields keep no description, to keep the CRD small")
		}
	})

	DescribeTable("kubectl explain prints the field's description",
		func(field, wantText string) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			// The API server publishes a new CRD's OpenAPI v3 schema a moment after the CRD is established; until
			// then explain cannot find the resource. Each try is a fresh kubectl, as a user would retry.
			Eventually(func() error {
				out.Reset()
				o, err := explain.NewExplainFlags(streams).ToOptions(kubectlFactory(kubeconfig), "kubectl", []string{field})
				if err != nil {
					return err
				}
				if err := o.Validate(); err != nil {
					return err
				}
				return o.Run()
			}).WithTimeout(30 * time.Second).Should(Succeed())
			_, description, found := strings.Cut(out.String(), "DESCRIPTION:")
			Expect(found).To(BeTrue(), out.String())
			Expect(description).NotTo(ContainSubstring("<empty>"), out.String())
			Expect(strings.Join(strings.Fields(description), " ")).To(ContainSubstring(wantText), out.String())
		},
		Entry(nil, "nas.spec.updateStrategy.rollingUpdate.maxSurge", "MaxSurge"),
		Entry(nil, "nas.spec.updateStrategy.rollingUpdate.partition", "Partition"),
		Entry(nil, "nas.spec.updateStrategy.type", "RollingUpdate"),
		Entry(nil, "nas.spec.template", "pod"),
		Entry(nil, "nas.status.updatedNumberScheduled", "UpdatedNumberScheduled"),
		Entry(nil, "nas.status.conditions", "Ready"),
	)

	It("applies with client-side kubectl apply -f, its last-applied annotation under 256 KiB", func() {
		streams, _, out, errOut := genericiooptions.NewTestIOStreams()
		flags := apply.NewApplyFlags(streams)
		cmd := &cobra.Command{Use: "apply"}
		flags.AddFlags(cmd)
		Expect(cmd.Flags().Set("filename", filepath.Join(repoRoot(GinkgoT()), crdFile))).To(Succeed())
		o, err := flags.ToOptions(kubectlFactory(kubeconfig), cmd, "kubectl", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(o.Validate()).To(Succeed())
		Expect(o.Run()).To(Succeed(), errOut.String())
		Expect(out.String()).To(ContainSubstring("customresourcedefinition.apiextensions.k8s.io/nodeagentsets.apps.nodeagentset.io"))

		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
		Expect(k8s.Get(ctx, client.ObjectKey{Name: "nodeagentsets.apps.nodeagentset.io"}, crd)).To(Succeed())
		lastApplied := crd.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]
		Expect(lastApplied).NotTo(BeEmpty())
		total := 0
		for k, v := range crd.GetAnnotations() {
			total += len(k) + len(v)
		}
		GinkgoWriter.Printf("last-applied-configuration: %d bytes (all annotations %d of %d)\n", len(lastApplied), total, lastAppliedLimit)
		Expect(total).To(BeNumerically("<", lastAppliedLimit))
	})
})

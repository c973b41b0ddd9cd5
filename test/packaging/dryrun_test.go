package packaging

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

// resourceFor is the dynamic client for an object's kind, in its namespace when it is namespaced.
func resourceFor(u *unstructured.Unstructured) dynamic.ResourceInterface {
	GinkgoHelper()
	mapping, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	Expect(err).NotTo(HaveOccurred(), "the API server does not serve %s", u.GroupVersionKind())
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return dyn.Resource(mapping.Resource).Namespace(u.GetNamespace())
	}
	return dyn.Resource(mapping.Resource)
}

var _ = Describe("The kustomize install (config/default)", Ordered, func() {
	var objs []*unstructured.Unstructured

	BeforeAll(func() {
		var err error
		objs, err = render.Objects(render.Options{RepoRoot: repoRoot(GinkgoT()), Dir: "config/default", Image: testImage})
		Expect(err).NotTo(HaveOccurred())
		Expect(objs).NotTo(BeEmpty())

		// A dry run cannot create into a namespace that does not exist, so the install's Namespace is created for
		// real; it is also where the PodSecurity level the Deployment is checked against comes from.
		Expect(objs[0].GetKind()).To(Equal("Namespace"))
		_, err = resourceFor(objs[0]).Create(ctx, objs[0], metav1.CreateOptions{FieldManager: "packaging-test"})
		Expect(err).NotTo(HaveOccurred())
		warnings.take()
	})

	It("server-side applies object by object, as a dry run, with no error and no warning", func() {
		for _, u := range objs {
			_, err := resourceFor(u).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{
				FieldManager: "packaging-test",
				Force:        true,
				DryRun:       []string{metav1.DryRunAll},
			})
			Expect(err).NotTo(HaveOccurred(), "%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
			Expect(warnings.take()).To(BeEmpty(), "warnings for %s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
		}
	})

	It("left nothing behind but the Namespace", func() {
		for _, u := range objs[1:] {
			if u.GetKind() == "CustomResourceDefinition" {
				continue // envtest installed it before the dry run
			}
			_, err := resourceFor(u).Get(ctx, u.GetName(), metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s %s exists after a dry run: %v", u.GetKind(), u.GetName(), err)
		}
	})
})

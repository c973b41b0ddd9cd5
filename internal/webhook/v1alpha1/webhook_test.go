package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission/admissiontest"
)

// newNamespace creates a namespace for one spec; the apiserver has no namespace controller here, so it is left behind
// with the test environment.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "admission-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

var _ = Describe("creating a NodeAgentSet", func() {
	var namespace string
	BeforeEach(func(ctx SpecContext) { namespace = newNamespace(ctx) })

	It("rejects every bad manifest in its home, with its one message, and stores nothing", func(ctx SpecContext) {
		for i, tc := range admissiontest.BadCases() {
			set := tc.Manifest()
			set.Namespace = namespace
			set.Name = fmt.Sprintf("bad-%02d", i)
			err := k8sClient.Create(ctx, set)
			Expect(err).To(HaveOccurred(), "case %q was accepted", tc.Name)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "case %q: not an Invalid error: %v", tc.Name, err)
			Expect(err.Error()).To(ContainSubstring(`NodeAgentSet.apps.nodeagentset.io "%s" is invalid: `, set.Name),
				"case %q", tc.Name)
			Expect(fieldErrors(err)).To(Equal([]string{tc.Want}), "case %q: %v", tc.Name, err)
			switch tc.Home {
			case admissiontest.Webhook:
				Expect(err.Error()).To(HavePrefix(deniedByWebhook), "case %q", tc.Name)
			case admissiontest.Schema:
				// The schema refused it before the validating webhook was called.
				Expect(err.Error()).NotTo(ContainSubstring("denied the request"), "case %q", tc.Name)
			default:
				Fail(fmt.Sprintf("case %q: no home", tc.Name))
			}

			err = k8sClient.Get(ctx, client.ObjectKeyFromObject(set), &v1alpha1.NodeAgentSet{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "case %q: stored anyway (get: %v)", tc.Name, err)
		}
	})

	It("words a rejection as the apiserver does for built-in types", func(ctx SpecContext) {
		set := admissiontest.ValidSet()
		set.Namespace = namespace
		set.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		err := k8sClient.Create(ctx, set)
		Expect(err).To(MatchError(deniedByWebhook + `NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: ` +
			`spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: selector does not match template labels`))
		status, ok := err.(apierrors.APIStatus)
		Expect(ok).To(BeTrue())
		Expect(status.Status().Details.Causes).To(ConsistOf(metav1.StatusCause{
			Type:    metav1.CauseTypeFieldValueInvalid,
			Field:   "spec.selector",
			Message: `Invalid value: {"matchLabels":{"app":"other"}}: selector does not match template labels`,
		}))
	})

	It("reports every error of a manifest at once", func(ctx SpecContext) {
		set := admissiontest.ValidSet()
		set.Namespace = namespace
		set.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		set.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "agents", TolerationSeconds: ptr.To[int64](60)}}
		err := k8sClient.Create(ctx, set)
		Expect(err).To(MatchError(deniedByWebhook + `NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: [` +
			`spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: selector does not match template labels, ` +
			`spec.template.spec.tolerations[0].effect: Invalid value: "": effect must be 'NoExecute' when ` +
			"`tolerationSeconds` is set]"))
	})

	It("reports the schema's errors first, and the webhook's once they are fixed", func(ctx SpecContext) {
		set := admissiontest.ValidSet()
		set.Namespace = namespace
		set.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		set.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "agents", TolerationSeconds: ptr.To[int64](60)}}
		err := k8sClient.Create(ctx, set)
		Expect(err).To(MatchError(`NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: ` +
			`spec.template.spec.restartPolicy: Invalid value: "OnFailure": supported values: "Always"`))

		set.Spec.Template.Spec.RestartPolicy = ""
		err = k8sClient.Create(ctx, set)
		Expect(err).To(MatchError(deniedByWebhook + `NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: ` +
			`spec.template.spec.tolerations[0].effect: Invalid value: "": effect must be 'NoExecute' when ` +
			"`tolerationSeconds` is set"))
	})

	It("accepts every good manifest, defaulted, with its warnings", func(ctx SpecContext) {
		for i, tc := range admissiontest.GoodCases() {
			set := tc.Manifest()
			set.Namespace = namespace
			set.Name = fmt.Sprintf("good-%02d", i)
			warnings.Reset()
			Expect(k8sClient.Create(ctx, set)).To(Succeed(), "case %q", tc.Name)
			Expect(warnings.Received()).To(Equal(tc.WantWarnings), "case %q", tc.Name)

			stored := &v1alpha1.NodeAgentSet{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(set), stored)).To(Succeed())
			Expect(stored.Spec.UpdateStrategy).To(Equal(tc.WantStrategy), "case %q", tc.Name)
			Expect(stored.Spec.RevisionHistoryLimit).To(HaveValue(Equal(tc.WantRevisionHistoryLimit)), "case %q", tc.Name)
			Expect(stored.Spec.Template.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyAlways), "case %q", tc.Name)
		}
	})
})

var _ = Describe("updating a NodeAgentSet", func() {
	var set *v1alpha1.NodeAgentSet
	BeforeEach(func(ctx SpecContext) {
		set = admissiontest.ValidSet()
		set.Namespace = newNamespace(ctx)
		Expect(k8sClient.Create(ctx, set)).To(Succeed())
	})

	It("rejects a change of the selector", func(ctx SpecContext) {
		changed := set.DeepCopy()
		changed.Spec.Selector.MatchLabels["tier"] = "agents"
		changed.Spec.Template.Labels["tier"] = "agents"
		err := k8sClient.Update(ctx, changed)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(`NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: ` +
			`spec.selector: Invalid value: field is immutable`))

		stored := &v1alpha1.NodeAgentSet{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(set), stored)).To(Succeed())
		Expect(stored.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": admissiontest.BaseName}))
	})

	It("rejects a change into an invalid spec", func(ctx SpecContext) {
		changed := set.DeepCopy()
		changed.Spec.Template.Spec.Containers[0].Image = ""
		err := k8sClient.Update(ctx, changed)
		Expect(err).To(MatchError(deniedByWebhook +
			`NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: spec.template.spec.containers[0].image: Required value`))
	})

	It("defaults a strategy changed to surge", func(ctx SpecContext) {
		changed := set.DeepCopy()
		changed.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{MaxSurge: ptr.To(intstrFromString("20%"))}
		Expect(k8sClient.Update(ctx, changed)).To(Succeed())
		Expect(changed.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(HaveValue(Equal(intstrFromInt(0))))
	})

	It("keeps a rollout paused and accepts the template change", func(ctx SpecContext) {
		changed := set.DeepCopy()
		changed.Spec.UpdateStrategy.RollingUpdate.Paused = true
		changed.Spec.Template.Spec.Containers[0].Image = "registry.example.com/node-agent:2.0"
		Expect(k8sClient.Update(ctx, changed)).To(Succeed())
		Expect(changed.Spec.UpdateStrategy.RollingUpdate.Paused).To(BeTrue())
		Expect(changed.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(HaveValue(Equal(intstrFromInt(1))))
	})
})

// The manifest a user keeps in Git: nothing that the webhook defaults.
const gitOpsManifest = `
apiVersion: apps.nodeagentset.io/v1alpha1
kind: NodeAgentSet
metadata:
  name: node-exporter
spec:
  selector:
    matchLabels:
      app: node-exporter
  template:
    metadata:
      labels:
        app: node-exporter
    spec:
      containers:
      - name: node-exporter
        image: quay.io/prometheus/node-exporter:v1.8.2
`

var _ = Describe("re-applying a manifest", func() {
	It("changes nothing once the defaults are in", func(ctx SpecContext) {
		namespace := newNamespace(ctx)
		apply := func() *v1alpha1.NodeAgentSet {
			manifest := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(gitOpsManifest), &manifest.Object)).To(Succeed())
			manifest.SetNamespace(namespace)
			Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(manifest),
				client.FieldOwner("gitops"), client.ForceOwnership)).To(Succeed())
			stored := &v1alpha1.NodeAgentSet{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "node-exporter"}, stored)).To(Succeed())
			return stored
		}
		first := apply()
		Expect(first.Spec.UpdateStrategy.Type).To(Equal(v1alpha1.RollingUpdateStrategyType))
		Expect(first.Spec.RevisionHistoryLimit).To(HaveValue(BeEquivalentTo(10)))

		// The apiserver skips a write that changes nothing, so an unchanged resourceVersion means no drift.
		for range 3 {
			again := apply()
			Expect(again.ResourceVersion).To(Equal(first.ResourceVersion))
			Expect(again.Generation).To(Equal(first.Generation))
		}
	})

	It("switches to surging once the manifest says maxUnavailable: 0", func(ctx SpecContext) {
		namespace := newNamespace(ctx)
		apply := func(manifestYAML string) (*v1alpha1.NodeAgentSet, error) {
			manifest := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(manifestYAML), &manifest.Object)).To(Succeed())
			manifest.SetNamespace(namespace)
			if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(manifest),
				client.FieldOwner("gitops"), client.ForceOwnership); err != nil {
				return nil, err
			}
			stored := &v1alpha1.NodeAgentSet{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "node-exporter"}, stored)).To(Succeed())
			return stored, nil
		}
		first, err := apply(gitOpsManifest)
		Expect(err).NotTo(HaveOccurred())
		Expect(first.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(HaveValue(Equal(intstrFromInt(1))))

		// Apply keeps the defaulted maxUnavailable: 1 that the manifest never mentioned, so maxSurge alone makes
		// both bounds non-zero. docs/admission.md tells users to write maxUnavailable: 0 with it.
		_, err = apply(gitOpsManifest + `
  updateStrategy:
    rollingUpdate:
      maxSurge: 1
`)
		Expect(err).To(MatchError(ContainSubstring(
			"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero")))

		surging, err := apply(gitOpsManifest + `
  updateStrategy:
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
`)
		Expect(err).NotTo(HaveOccurred())
		Expect(surging.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(HaveValue(Equal(intstrFromInt(0))))
		Expect(surging.Spec.UpdateStrategy.RollingUpdate.MaxSurge).To(HaveValue(Equal(intstrFromInt(1))))
	})
})

// Without the webhooks (not installed, or bypassed) the CRD's own OpenAPI and CEL rules still refuse the worst input.
var _ = Describe("the CRD schema without the webhooks", Serial, func() {
	var namespace string
	BeforeEach(func(ctx SpecContext) {
		namespace = newNamespace(ctx)
		By("removing the webhook configurations")
		var mutating []*admissionregistrationv1.MutatingWebhookConfiguration
		var validating []*admissionregistrationv1.ValidatingWebhookConfiguration
		for _, hook := range testEnv.WebhookInstallOptions.MutatingWebhooks {
			stored := &admissionregistrationv1.MutatingWebhookConfiguration{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: hook.Name}, stored)).To(Succeed())
			mutating = append(mutating, stored)
			Expect(k8sClient.Delete(ctx, stored)).To(Succeed())
		}
		for _, hook := range testEnv.WebhookInstallOptions.ValidatingWebhooks {
			stored := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: hook.Name}, stored)).To(Succeed())
			validating = append(validating, stored)
			Expect(k8sClient.Delete(ctx, stored)).To(Succeed())
		}
		DeferCleanup(func(ctx SpecContext) {
			By("restoring the webhook configurations")
			for _, hook := range mutating {
				hook.ResourceVersion = ""
				Expect(k8sClient.Create(ctx, hook)).To(Succeed())
			}
			for _, hook := range validating {
				hook.ResourceVersion = ""
				Expect(k8sClient.Create(ctx, hook)).To(Succeed())
			}
			probe := admissiontest.ValidSet()
			probe.Namespace = namespace
			probe.Name = "probe-webhooks-back"
			probe.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
			Eventually(func(ctx context.Context) error { return k8sClient.Create(ctx, probe) }).WithContext(ctx).
				WithTimeout(time.Minute).Should(MatchError(ContainSubstring("denied the request")))
		})

		// The apiserver notices the deletion through a watch; wait until a set only the webhook refuses is stored.
		probe := admissiontest.ValidSet()
		probe.Namespace = namespace
		probe.Name = "probe-webhooks-gone"
		probe.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		Eventually(func(ctx context.Context) error { return k8sClient.Create(ctx, probe) }).WithContext(ctx).
			WithTimeout(time.Minute).Should(Succeed())
	})

	It("still refuses every manifest whose home is the schema, with the same message", func(ctx SpecContext) {
		for i, tc := range admissiontest.BadCases() {
			if tc.Home != admissiontest.Schema {
				continue
			}
			set := tc.Manifest()
			set.Namespace = namespace
			set.Name = fmt.Sprintf("bad-%02d", i)
			err := k8sClient.Create(ctx, set)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "case %q: got %v", tc.Name, err)
			Expect(fieldErrors(err)).To(Equal([]string{tc.Want}), "case %q: %v", tc.Name, err)
		}
	})

	// Each rule has one home: what the webhook refuses, the schema does not also refuse.
	It("stores every manifest whose home is the webhook", func(ctx SpecContext) {
		for i, tc := range admissiontest.BadCases() {
			if tc.Home != admissiontest.Webhook {
				continue
			}
			set := tc.Manifest()
			set.Namespace = namespace
			set.Name = fmt.Sprintf("webhook-only-%02d", i)
			Expect(k8sClient.Create(ctx, set)).To(Succeed(), "case %q", tc.Name)
		}
	})

	// Without the defaulting webhook nothing fills restartPolicy; unset and empty both mean Always to a pod.
	It("stores a template whose restartPolicy is unset or empty", func(ctx SpecContext) {
		for _, tc := range []struct{ name, podSpecLine string }{
			{"restart-unset", ""},
			{"restart-empty", `      restartPolicy: ""`},
		} {
			manifest := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(gitOpsManifest+tc.podSpecLine), &manifest.Object)).To(Succeed())
			manifest.SetNamespace(namespace)
			manifest.SetName(tc.name)
			Expect(k8sClient.Create(ctx, manifest)).To(Succeed(), tc.name)
			stored := &v1alpha1.NodeAgentSet{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(manifest), stored)).To(Succeed())
			Expect(stored.Spec.Template.Spec.RestartPolicy).To(BeEmpty(), tc.name)
		}
	})

	It("still refuses a change of the selector", func(ctx SpecContext) {
		set := admissiontest.ValidSet()
		set.Namespace = namespace
		Expect(k8sClient.Create(ctx, set)).To(Succeed())
		set.Spec.Selector.MatchLabels["tier"] = "agents"
		set.Spec.Template.Labels["tier"] = "agents"
		Expect(k8sClient.Update(ctx, set)).To(MatchError(`NodeAgentSet.apps.nodeagentset.io "node-agent" is invalid: ` +
			`spec.selector: Invalid value: field is immutable`))
	})
})

// deniedByWebhook starts the message of an error the validating webhook returned; a schema error has no prefix.
const deniedByWebhook = `admission webhook "validate.nodeagentsets.apps.nodeagentset.io" denied the request: `

// notCheckedCause is the apiserver's note, beside a schema error that stops the CEL rules, that it did not run them.
const notCheckedCause = "some validation rules were not checked because the object was invalid"

// fieldErrors returns the field errors of an Invalid error, each as field.Error.Error() prints it, without the
// apiserver's note that it skipped the CEL rules.
func fieldErrors(err error) []string {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return nil
	}
	var lines []string
	for _, cause := range status.Status().Details.Causes {
		if strings.Contains(cause.Message, notCheckedCause) {
			continue
		}
		lines = append(lines, cause.Field+": "+cause.Message)
	}
	return lines
}

func intstrFromInt(v int32) intstr.IntOrString { return intstr.FromInt32(v) }

func intstrFromString(s string) intstr.IntOrString { return intstr.FromString(s) }

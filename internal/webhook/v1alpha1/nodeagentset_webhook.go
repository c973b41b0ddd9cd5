package v1alpha1

import (
	"context"
	"slices"

	"gomodules.xyz/jsonpatch/v2"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission"
)

// The webhook configurations. Both fail closed (a set that was not checked is not stored), have no side effects,
// and time out quickly so an unreachable webhook does not hold kubectl for the apiserver's default 10s.
//
// +kubebuilder:webhook:path=/mutate-apps-nodeagentset-io-v1alpha1-nodeagentset,mutating=true,failurePolicy=fail,sideEffects=None,groups=apps.nodeagentset.io,resources=nodeagentsets,verbs=create;update,versions=v1alpha1,name=default.nodeagentsets.apps.nodeagentset.io,admissionReviewVersions=v1,timeoutSeconds=5
// +kubebuilder:webhook:path=/validate-apps-nodeagentset-io-v1alpha1-nodeagentset,mutating=false,failurePolicy=fail,sideEffects=None,groups=apps.nodeagentset.io,resources=nodeagentsets,verbs=create;update,versions=v1alpha1,name=validate.nodeagentsets.apps.nodeagentset.io,admissionReviewVersions=v1,timeoutSeconds=5

// Paths the webhook server serves, as the markers above give them to the webhook configurations.
const (
	mutatePath   = "/mutate-apps-nodeagentset-io-v1alpha1-nodeagentset"
	validatePath = "/validate-apps-nodeagentset-io-v1alpha1-nodeagentset"
)

// SetupNodeAgentSetWebhookWithManager registers the NodeAgentSet defaulting and validating webhooks with mgr's
// webhook server.
func SetupNodeAgentSetWebhookWithManager(mgr ctrl.Manager) error {
	// The defaulting webhook is controller-runtime's typed one with its patch filtered (see withoutMarshallingNoise),
	// so it is registered by hand rather than through the builder, which offers no way to wrap the handler.
	mutate := cradmission.WithDefaulter(mgr.GetScheme(), defaulter{})
	mutate.Handler = withoutMarshallingNoise{mutate.Handler}
	mgr.GetWebhookServer().Register(mutatePath, mutate)

	return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.NodeAgentSet{}).
		WithValidator(validator{}).
		WithValidatorCustomPath(validatePath).
		Complete()
}

// defaulter is the mutating webhook: it applies admission.Default.
type defaulter struct{}

var _ cradmission.Defaulter[*v1alpha1.NodeAgentSet] = defaulter{}

// Default fills the unset fields of set.
func (defaulter) Default(_ context.Context, set *v1alpha1.NodeAgentSet) error {
	admission.Default(set)
	return nil
}

// validator is the validating webhook: it applies admission.Validate on create and admission.ValidateUpdate on
// update, and returns admission.Warnings for every set it accepts. The apiserver calls it only for a set that
// passed the CRD schema's rules.
type validator struct{}

var _ cradmission.Validator[*v1alpha1.NodeAgentSet] = validator{}

// ValidateCreate rejects an invalid new set.
func (validator) ValidateCreate(_ context.Context, set *v1alpha1.NodeAgentSet) (cradmission.Warnings, error) {
	return respond(set, admission.Validate(set))
}

// ValidateUpdate rejects a change into an invalid spec (that the selector cannot change is the CRD's rule).
func (validator) ValidateUpdate(_ context.Context, old, set *v1alpha1.NodeAgentSet) (cradmission.Warnings, error) {
	return respond(set, admission.ValidateUpdate(set, old))
}

// ValidateDelete accepts every delete; the webhook is not registered for deletes anyway.
func (validator) ValidateDelete(context.Context, *v1alpha1.NodeAgentSet) (cradmission.Warnings, error) {
	return nil, nil
}

// respond turns the field errors into the apiserver's Invalid status (HTTP 422), so a client sees
// `NodeAgentSet.apps.nodeagentset.io "name" is invalid: <field>: <error>` as it would for a built-in type.
// Warnings are only returned for accepted sets: kubectl prints them and they would be noise beside an error.
func respond(set *v1alpha1.NodeAgentSet, errs field.ErrorList) (cradmission.Warnings, error) {
	if len(errs) != 0 {
		return nil, apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("NodeAgentSet").GroupKind(), set.Name, errs)
	}
	return admission.Warnings(set), nil
}

// withoutMarshallingNoise drops the operations of a defaulting patch that come from marshalling the object in Go
// rather than from a default.
//
// controller-runtime builds the patch by comparing the request with the defaulted object marshalled from Go, and
// Go marshals a nil field without omitempty as null (spec.selector, a pod's containers, nodeSelectorTerms) and an
// empty struct without omitempty as {} (a container's resources). The apiserver drops nulls from what the client
// sent, so the patch would add them back and the schema check would then report `must be of type object: "null"`
// instead of the field's real problem, "Required value"; the empty objects would be stored although the manifest
// never had them. Default never sets a field to null or to an empty object, so none of these is one of its defaults.
type withoutMarshallingNoise struct{ cradmission.Handler }

func (h withoutMarshallingNoise) Handle(ctx context.Context, req cradmission.Request) cradmission.Response {
	response := h.Handler.Handle(ctx, req)
	response.Patches = dropMarshallingNoise(response.Patches)
	if len(response.Patches) == 0 {
		response.PatchType = nil
	}
	return response
}

// dropMarshallingNoise returns, in their order, the operations other than those that write null and those that add
// an empty object.
func dropMarshallingNoise(operations []jsonpatch.Operation) []jsonpatch.Operation {
	return slices.DeleteFunc(operations, func(op jsonpatch.Operation) bool {
		switch op.Operation {
		case "add":
			object, isObject := op.Value.(map[string]any)
			return op.Value == nil || (isObject && len(object) == 0)
		case "replace":
			return op.Value == nil
		}
		return false
	})
}

package admission

import (
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Validate returns the reasons set cannot be stored that the CRD schema cannot give, worded as the apiserver words
// them for a DaemonSet. Each rule has one home: the rules on the set's own fields (required and immutable
// selector, update strategy and rollout bounds, canary settings, progress deadline, restart policy, override names,
// ...) are OpenAPI and CEL rules in the CRD, which the apiserver checks before it calls the validating webhook, so
// they are not repeated here. What is left needs Go: the syntax of label keys and values, label selectors matched
// against labels, the pod rules for tolerations, node affinity and containers, and node overrides applied to the
// template.
//
// Validate does not need a defaulted set: none of its rules reads a field that Default fills.
func Validate(set *v1alpha1.NodeAgentSet) field.ErrorList {
	return validateSpec(&set.Spec, field.NewPath("spec"))
}

// ValidateUpdate returns every reason the change from old to set cannot be stored: a changed spec must be valid.
// A spec that did not change is not re-validated, so a set stored under older or looser rules (or while the
// webhooks were off) can still have its metadata updated (labels, finalizers) and be deleted; the apiserver does
// the same for the schema's rules, which it does not apply to values an update leaves unchanged. "Did not change"
// allows for the defaults: the defaulting webhook has filled them into set, but a set stored without the webhooks
// lacks them. That the selector cannot change is a schema rule.
func ValidateUpdate(set, old *v1alpha1.NodeAgentSet) field.ErrorList {
	oldDefaulted := old.DeepCopy()
	Default(oldDefaulted)
	if apiequality.Semantic.DeepEqual(set.Spec, oldDefaulted.Spec) {
		return nil
	}
	return Validate(set)
}

func validateSpec(spec *v1alpha1.NodeAgentSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateSelector(spec.Selector, spec.Template.Labels, path.Child("selector"))...)
	errs = append(errs, validatePodTemplate(&spec.Template, path.Child("template"))...)
	if ru := spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Canary != nil && ru.Canary.NodeSelector != nil {
		canarySelectorPath := path.Child("updateStrategy", "rollingUpdate", "canary", "nodeSelector")
		errs = append(errs, validateLabelSelector(ru.Canary.NodeSelector, canarySelectorPath)...)
	}
	errs = append(errs, validateNodeOverrides(spec, path.Child("nodeOverrides"))...)
	return errs
}

// validateSelector: the selector is well formed and matches the template's labels (or the set would never see the
// pods it creates). That it is set and not empty is the schema's rule; an empty selector matches any labels, so it
// gets no error here either.
func validateSelector(selector *metav1.LabelSelector, templateLabels map[string]string, path *field.Path) field.ErrorList {
	if selector == nil {
		return nil
	}
	if errs := validateLabelSelector(selector, path); len(errs) != 0 {
		return errs
	}
	// validateLabelSelector has parsed it already, without an error.
	parsed, _ := metav1.LabelSelectorAsSelector(selector)
	if !parsed.Matches(labels.Set(templateLabels)) {
		return field.ErrorList{field.Invalid(path, selector, "selector does not match template labels")}
	}
	return nil
}

// validateLabelSelector checks a label selector is well formed: matchLabels as labels, and each requirement with a
// known operator, the number of values it takes and valid keys and values.
func validateLabelSelector(selector *metav1.LabelSelector, path *field.Path) field.ErrorList {
	// The same checks as metav1validation.ValidateLabelSelector, but with matchLabels walked in sorted order: that
	// function walks the map as Go does, so its errors would come out in a different order on every call.
	errs := validateLabelMap(selector.MatchLabels, path.Child("matchLabels"))
	for i, requirement := range selector.MatchExpressions {
		errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(requirement,
			metav1validation.LabelSelectorValidationOptions{}, path.Child("matchExpressions").Index(i))...)
	}
	if len(errs) == 0 {
		if _, err := metav1.LabelSelectorAsSelector(selector); err != nil {
			// The checks above accepted it, so this is a rule they do not know; report it rather than guess.
			errs = append(errs, field.Invalid(path, selector, err.Error()))
		}
	}
	return errs
}

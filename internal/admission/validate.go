package admission

import (
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Validate returns every reason set cannot be stored, as the apiserver would word them for a DaemonSet. It expects
// a defaulted set (the mutating webhook runs first), so unset fields that Default fills are reported as missing.
func Validate(set *v1alpha1.NodeAgentSet) field.ErrorList {
	return validateSpec(&set.Spec, field.NewPath("spec"))
}

// ValidateUpdate returns every reason the change from old to set cannot be stored: the selector cannot change,
// and a changed spec must be valid. A spec that did not change is not re-validated, so a set stored under older or
// looser rules (or while the webhooks were off) can still have its metadata updated (labels, finalizers) and be
// deleted. "Did not change" allows for the defaults: the defaulting webhook has filled them into set, but a set
// stored without the webhooks lacks them.
func ValidateUpdate(set, old *v1alpha1.NodeAgentSet) field.ErrorList {
	var errs field.ErrorList
	selectorPath := field.NewPath("spec", "selector")
	if !apiequality.Semantic.DeepEqual(set.Spec.Selector, old.Spec.Selector) {
		errs = append(errs, field.Invalid(selectorPath, set.Spec.Selector, apivalidation.FieldImmutableErrorMsg))
	}
	oldDefaulted := old.DeepCopy()
	Default(oldDefaulted)
	if apiequality.Semantic.DeepEqual(set.Spec, oldDefaulted.Spec) {
		return errs
	}
	return append(errs, Validate(set)...)
}

func validateSpec(spec *v1alpha1.NodeAgentSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateSelector(spec.Selector, spec.Template.Labels, path.Child("selector"))...)
	errs = append(errs, validatePodTemplate(&spec.Template, path.Child("template"))...)
	errs = append(errs, validateUpdateStrategy(&spec.UpdateStrategy, path.Child("updateStrategy"))...)
	errs = append(errs, validateNodeOverrides(spec, path.Child("nodeOverrides"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	if spec.ProgressDeadlineSeconds != nil {
		deadlinePath := path.Child("progressDeadlineSeconds")
		deadline := *spec.ProgressDeadlineSeconds
		if deadline < 0 {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(deadline), deadlinePath)...)
		} else if deadline <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(deadlinePath, deadline, "must be greater than minReadySeconds"))
		}
	}
	if spec.RevisionHistoryLimit != nil {
		// 0 is valid: keep no old revisions.
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), path.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// validateSelector: the selector is required, well formed, not empty (an empty selector would claim every pod in
// the namespace) and matches the template's labels (or the set would never see the pods it creates).
func validateSelector(selector *metav1.LabelSelector, templateLabels map[string]string, path *field.Path) field.ErrorList {
	if selector == nil {
		return field.ErrorList{field.Required(path, "")}
	}
	// The same checks as metav1validation.ValidateLabelSelector, but with matchLabels walked in sorted order: that
	// function walks the map as Go does, so its errors would come out in a different order on every call.
	errs := validateLabelMap(selector.MatchLabels, path.Child("matchLabels"))
	for i, requirement := range selector.MatchExpressions {
		errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(requirement,
			metav1validation.LabelSelectorValidationOptions{}, path.Child("matchExpressions").Index(i))...)
	}
	if len(selector.MatchLabels)+len(selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(path, selector, "empty selector is invalid for a NodeAgentSet: it would select every pod in the namespace"))
		return errs
	}
	if len(errs) != 0 {
		return errs
	}
	parsed, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		// The checks above accepted it, so this is a rule they do not know; report it rather than guess.
		return append(errs, field.Invalid(path, selector, err.Error()))
	}
	if !parsed.Matches(labels.Set(templateLabels)) {
		errs = append(errs, field.Invalid(path, selector, "selector does not match template labels"))
	}
	return errs
}

// validateUpdateStrategy: the type is RollingUpdate or OnDelete. For RollingUpdate the bounds are each a
// non-negative integer or a percent up to 100%, exactly one of maxUnavailable and maxSurge is non-zero (both zero
// would never replace a pod; both non-zero is ambiguous), and the partition is a non-negative integer or percent.
func validateUpdateStrategy(strategy *v1alpha1.NodeAgentSetUpdateStrategy, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch strategy.Type {
	case v1alpha1.OnDeleteStrategyType:
		// rollingUpdate, if present, is ignored (Warnings says so), but a canary would silently never run.
		if ru := strategy.RollingUpdate; ru != nil && ru.Canary != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate", "canary"),
				"may not be set when updateStrategy.type is OnDelete")}
		}
		return nil
	case v1alpha1.RollingUpdateStrategyType:
	default:
		return field.ErrorList{field.NotSupported(path.Child("type"), string(strategy.Type),
			[]string{string(v1alpha1.RollingUpdateStrategyType), string(v1alpha1.OnDeleteStrategyType)})}
	}
	ru := strategy.RollingUpdate
	ruPath := path.Child("rollingUpdate")
	if ru == nil {
		return field.ErrorList{field.Required(ruPath, "")}
	}
	unavailablePath, surgePath := ruPath.Child("maxUnavailable"), ruPath.Child("maxSurge")
	errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, unavailablePath)...)
	errs = append(errs, validateIntOrPercent(ru.MaxSurge, surgePath)...)
	errs = append(errs, validateIntOrPercent(ru.Partition, ruPath.Child("partition"))...)
	switch {
	case isPositiveBound(ru.MaxUnavailable) && isPositiveBound(ru.MaxSurge):
		errs = append(errs, field.Invalid(surgePath, boundValue(ru.MaxSurge), "may not be set when maxUnavailable is non-zero"))
	case zeroOrUnset(ru.MaxUnavailable) && zeroOrUnset(ru.MaxSurge):
		errs = append(errs, field.Required(unavailablePath, "cannot be 0 when maxSurge is 0"))
	}
	if ru.Canary != nil {
		errs = append(errs, validateCanary(ru.Canary, ruPath.Child("canary"))...)
	}
	return errs
}

// validateCanary: a well-formed node selector, replicas a non-negative number or a percent up to 100%, a
// non-negative duration and maxRestarts, and known promotion and onFailure values.
func validateCanary(canary *v1alpha1.NodeAgentSetCanary, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if canary.NodeSelector != nil {
		selectorPath := path.Child("nodeSelector")
		errs = append(errs, validateLabelMap(canary.NodeSelector.MatchLabels, selectorPath.Child("matchLabels"))...)
		for i, requirement := range canary.NodeSelector.MatchExpressions {
			errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(requirement,
				metav1validation.LabelSelectorValidationOptions{}, selectorPath.Child("matchExpressions").Index(i))...)
		}
	}
	errs = append(errs, validateIntOrPercent(canary.Replicas, path.Child("replicas"))...)
	if canary.Duration != nil && canary.Duration.Duration < 0 {
		errs = append(errs, field.Invalid(path.Child("duration"), canary.Duration.Duration.String(), "must be greater than or equal to 0"))
	}
	if canary.MaxRestarts != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*canary.MaxRestarts), path.Child("maxRestarts"))...)
	}
	switch canary.Promotion {
	case v1alpha1.CanaryPromotionAuto, v1alpha1.CanaryPromotionManual:
	default:
		errs = append(errs, field.NotSupported(path.Child("promotion"), string(canary.Promotion),
			[]string{string(v1alpha1.CanaryPromotionAuto), string(v1alpha1.CanaryPromotionManual)}))
	}
	switch canary.OnFailure {
	case v1alpha1.CanaryFailurePause, v1alpha1.CanaryFailureAbort:
	default:
		errs = append(errs, field.NotSupported(path.Child("onFailure"), string(canary.OnFailure),
			[]string{string(v1alpha1.CanaryFailurePause), string(v1alpha1.CanaryFailureAbort)}))
	}
	return errs
}

// zeroOrUnset reports whether a bound means no node at all; an unset bound does too, when Default has not run.
func zeroOrUnset(value *intstr.IntOrString) bool { return value == nil || isZeroBound(value) }

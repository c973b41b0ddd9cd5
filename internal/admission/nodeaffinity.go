package admission

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nodeNameField is the only node field a node selector term may match on.
const nodeNameField = "metadata.name"

// validateNodeAffinity checks the node affinity terms are well formed, so the controller can evaluate them when it
// decides which nodes should run a pod. Pod (anti-)affinity is left to the apiserver at pod creation: it does not
// decide where a node agent runs.
func validateNodeAffinity(affinity *corev1.Affinity, path *field.Path) field.ErrorList {
	if affinity == nil || affinity.NodeAffinity == nil {
		return nil
	}
	nodeAffinity := affinity.NodeAffinity
	path = path.Child("nodeAffinity")
	var errs field.ErrorList
	if required := nodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; required != nil {
		requiredPath := path.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		// An absent list is the schema's error (core/v1's schema requires the field); an empty one passes it.
		if required.NodeSelectorTerms != nil && len(required.NodeSelectorTerms) == 0 {
			errs = append(errs, field.Required(requiredPath, "must have at least one node selector term"))
		}
		for i, term := range required.NodeSelectorTerms {
			errs = append(errs, validateNodeSelectorTerm(term, true, requiredPath.Index(i))...)
		}
	}
	preferredPath := path.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, preferred := range nodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		idxPath := preferredPath.Index(i)
		if preferred.Weight < 1 || preferred.Weight > 100 {
			errs = append(errs, field.Invalid(idxPath.Child("weight"), preferred.Weight, "must be in the range 1-100"))
		}
		// Upstream accepts any value in a preference (it only weighs nodes), so label values are not checked here.
		errs = append(errs, validateNodeSelectorTerm(preferred.Preference, false, idxPath.Child("preference"))...)
	}
	return errs
}

// validateNodeSelectorTerm checks each label expression and field expression of one term; checkValues says whether
// the label values must be valid label values.
func validateNodeSelectorTerm(term corev1.NodeSelectorTerm, checkValues bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, requirement := range term.MatchExpressions {
		errs = append(errs, validateNodeLabelRequirement(requirement, checkValues, path.Child("matchExpressions").Index(i))...)
	}
	for i, requirement := range term.MatchFields {
		errs = append(errs, validateNodeFieldRequirement(requirement, path.Child("matchFields").Index(i))...)
	}
	return errs
}

// validateNodeLabelRequirement: the operator decides how many values there are (In and NotIn at least one, Exists
// and DoesNotExist none, Gt and Lt exactly one); the key is a label key and, if checkValues, each value a label value.
func validateNodeLabelRequirement(requirement corev1.NodeSelectorRequirement, checkValues bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch requirement.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(requirement.Values) == 0 {
			errs = append(errs, field.Required(path.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(requirement.Values) > 0 {
			errs = append(errs, field.Forbidden(path.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(requirement.Values) != 1 {
			errs = append(errs, field.Required(path.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, field.Invalid(path.Child("operator"), string(requirement.Operator), "not a valid selector operator"))
	}
	errs = append(errs, validateQualifiedName(requirement.Key, path.Child("key"))...)
	for i, value := range requirement.Values {
		if !checkValues {
			break
		}
		for _, msg := range validation.IsValidLabelValue(value) {
			errs = append(errs, field.Invalid(path.Child("values").Index(i), value, msg))
		}
	}
	return errs
}

// validateNodeFieldRequirement: a field expression can only pin a node by name, with In or NotIn and one name.
func validateNodeFieldRequirement(requirement corev1.NodeSelectorRequirement, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch requirement.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(requirement.Values) != 1 {
			errs = append(errs, field.Required(path.Child("values"),
				"must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	default:
		errs = append(errs, field.Invalid(path.Child("operator"), string(requirement.Operator), "not a valid selector operator"))
	}
	if requirement.Key != nodeNameField {
		errs = append(errs, field.Invalid(path.Child("key"), requirement.Key, "not a valid field selector key"))
		return errs
	}
	for i, value := range requirement.Values {
		for _, msg := range apivalidation.NameIsDNSSubdomain(value, false) {
			errs = append(errs, field.Invalid(path.Child("values").Index(i), value, msg))
		}
	}
	return errs
}

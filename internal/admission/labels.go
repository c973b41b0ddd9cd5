package admission

import (
	"slices"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateLabelMap checks every key of a label-like map (labels, nodeSelector) is a qualified name and every value
// a valid label value. Keys are visited in sorted order so the same input always yields the same error list.
func validateLabelMap(labels map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, key := range sortedKeys(labels) {
		errs = append(errs, validateQualifiedName(key, path)...)
		for _, msg := range validation.IsValidLabelValue(labels[key]) {
			errs = append(errs, field.Invalid(path.Key(key), labels[key], msg))
		}
	}
	return errs
}

// validateAnnotationMap checks annotation keys are qualified names and the total size stays within the limit the
// apiserver enforces on object metadata.
func validateAnnotationMap(annotations map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, key := range sortedKeys(annotations) {
		// Case does not matter in annotation keys, as upstream.
		for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
			errs = append(errs, field.Invalid(path, key, msg))
		}
		total += len(key) + len(annotations[key])
	}
	if total > apivalidation.TotalAnnotationSizeLimitB {
		errs = append(errs, field.TooLong(path, "", apivalidation.TotalAnnotationSizeLimitB))
	}
	return errs
}

// validateQualifiedName reports name as the bad value at path when it is not a qualified name (an optional DNS
// subdomain prefix and a slash, then a name of at most 63 characters).
func validateQualifiedName(name string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package admission

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// taintEffects are the effects a toleration may name; an empty effect matches every effect.
var taintEffects = []string{
	string(corev1.TaintEffectNoSchedule),
	string(corev1.TaintEffectPreferNoSchedule),
	string(corev1.TaintEffectNoExecute),
}

// tolerationOperators are the operators a toleration may use; an empty operator means Equal. The numeric Lt and Gt
// operators are behind an alpha feature gate upstream, off by default, so they are refused here as they are there.
var tolerationOperators = []string{string(corev1.TolerationOpEqual), string(corev1.TolerationOpExists)}

// validateTolerations applies the upstream pod rules to each toleration:
//   - the key is empty or a qualified name;
//   - an empty key needs operator Exists (it then matches every key);
//   - Exists takes no value, Equal takes a valid label value;
//   - the effect is NoSchedule, PreferNoSchedule, NoExecute or empty;
//   - tolerationSeconds only bounds NoExecute evictions, so it needs effect NoExecute.
func validateTolerations(tolerations []corev1.Toleration, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, toleration := range tolerations {
		idxPath := path.Index(i)
		if toleration.Key != "" {
			errs = append(errs, validateQualifiedName(toleration.Key, idxPath.Child("key"))...)
		}
		if toleration.Key == "" && toleration.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(idxPath.Child("operator"), string(toleration.Operator),
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if toleration.TolerationSeconds != nil && toleration.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(idxPath.Child("effect"), string(toleration.Effect),
				"effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch toleration.Operator {
		case corev1.TolerationOpEqual, "":
			if msgs := validation.IsValidLabelValue(toleration.Value); len(msgs) != 0 {
				errs = append(errs, field.Invalid(idxPath.Child("value"), toleration.Value, strings.Join(msgs, "; ")))
			}
		case corev1.TolerationOpExists:
			if toleration.Value != "" {
				errs = append(errs, field.Invalid(idxPath.Child("value"), toleration.Value,
					"value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(idxPath.Child("operator"), string(toleration.Operator), tolerationOperators))
		}
		if toleration.Effect != "" && !slices.Contains(taintEffects, string(toleration.Effect)) {
			errs = append(errs, field.NotSupported(idxPath.Child("effect"), string(toleration.Effect), taintEffects))
		}
	}
	return errs
}

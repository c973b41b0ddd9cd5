package admission

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateIntOrPercent checks a rollout bound: a non-negative integer, or a percent string of at most 100%.
func validateIntOrPercent(value *intstr.IntOrString, path *field.Path) field.ErrorList {
	if value == nil {
		return nil
	}
	var errs field.ErrorList
	switch value.Type {
	case intstr.Int:
		if value.IntVal < 0 {
			errs = append(errs, field.Invalid(path, value.IntVal, "must be greater than or equal to 0"))
		}
	case intstr.String:
		msgs := validation.IsValidPercent(value.StrVal)
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(path, value.StrVal, msg))
		}
		if len(msgs) == 0 {
			if pct, ok := percentValue(value.StrVal); !ok || pct > 100 {
				errs = append(errs, field.Invalid(path, value.StrVal, "must not be greater than 100%"))
			}
		}
	default:
		// Only Go code can build an IntOrString of another type; JSON cannot, so there is no value worth showing.
		errs = append(errs, field.Invalid(path, field.OmitValueType{}, "must be an integer or a percent such as '5%'"))
	}
	return errs
}

// percentValue parses a string that already passed IsValidPercent ("[0-9]+%"). ok is false when the number does not
// fit an int, which only a string of absurd length can cause; callers treat that as more than 100%.
func percentValue(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return 0, false
	}
	return n, true
}

// isZeroBound reports whether a rollout bound is present and means zero nodes: 0 or a valid percent equal to 0%.
// An absent bound is not zero: it has not been defaulted yet. An invalid value is not zero either; its own error
// is reported separately.
func isZeroBound(value *intstr.IntOrString) bool {
	if value == nil {
		return false
	}
	switch value.Type {
	case intstr.Int:
		return value.IntVal == 0
	case intstr.String:
		if len(validation.IsValidPercent(value.StrVal)) != 0 {
			return false
		}
		pct, ok := percentValue(value.StrVal)
		return ok && pct == 0
	}
	return false
}

// isPositiveBound reports whether a rollout bound is present and valid and means at least one node. Percentages
// of the desired count are rounded up, so any percent above 0% means at least one node once any node is eligible.
func isPositiveBound(value *intstr.IntOrString) bool {
	if value == nil || len(validateIntOrPercent(value, field.NewPath(""))) != 0 {
		return false
	}
	return !isZeroBound(value)
}

// boundValue is a bound as the bad value of a field error, so it prints as the user wrote it: 1 or "25%".
func boundValue(value *intstr.IntOrString) any {
	if value.Type == intstr.String {
		return value.StrVal
	}
	return value.IntVal
}

package admission

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// isPositiveBound reports whether a rollout bound is set, valid and means at least one node: a positive integer or
// a percent from 1% to 100% (percentages of the desired count are rounded up, so any of them means at least one
// node once any node is eligible). Default and Warnings read the bounds by it; it is the CRD's notion of a
// non-zero bound (see NodeAgentSetUpdateStrategy), which rejects an invalid bound with its own error.
func isPositiveBound(value *intstr.IntOrString) bool {
	if value == nil {
		return false
	}
	switch value.Type {
	case intstr.Int:
		return value.IntVal > 0
	case intstr.String:
		if len(validation.IsValidPercent(value.StrVal)) != 0 {
			return false
		}
		// A number too long for an int is no valid percent either.
		percent, err := strconv.Atoi(strings.TrimSuffix(value.StrVal, "%"))
		return err == nil && percent > 0 && percent <= 100
	}
	return false
}

package planner

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// strategy is the set's update strategy with its numbers resolved against desiredNumberScheduled.
type strategy struct {
	// rollingUpdate: the strategy is RollingUpdate (or unset, which means RollingUpdate).
	rollingUpdate bool
	// allowsSurge: a node may run a pod of the update revision beside an old one. It is maxSurge resolved against
	// one node (any positive percent rounds up to 1), as the upstream controller decides it, so it does not flip
	// with the node count.
	allowsSurge    bool
	maxUnavailable int
	maxSurge       int
	// partition is how many eligible nodes keep their old pod, at most desiredNumberScheduled.
	partition int
	paused    bool
	// inPlace: podUpdatePolicy InPlaceIfPossible; image-only changes are patched into old pods (without surge).
	inPlace bool
	// invalid names the field and value that could not be resolved; the rolling update then does nothing.
	invalid string
}

func resolveStrategy(set *v1alpha1.NodeAgentSet, desired int) strategy {
	spec := set.Spec.UpdateStrategy
	switch spec.Type {
	case v1alpha1.OnDeleteStrategyType:
		return strategy{}
	case v1alpha1.RollingUpdateStrategyType, "":
	default:
		return strategy{invalid: fmt.Sprintf("spec.updateStrategy.type: unsupported value %q (want %q or %q)",
			spec.Type, v1alpha1.RollingUpdateStrategyType, v1alpha1.OnDeleteStrategyType)}
	}

	s := strategy{rollingUpdate: true, maxUnavailable: 1}
	ru := spec.RollingUpdate
	if ru == nil {
		return s
	}
	s.paused = ru.Paused
	s.inPlace = ru.PodUpdatePolicy == v1alpha1.InPlaceIfPossiblePodUpdatePolicy

	var err error
	if ru.MaxSurge != nil {
		var perNode int
		if perNode, err = scaled(ru.MaxSurge, 1, "maxSurge"); err != nil {
			return strategy{rollingUpdate: true, invalid: err.Error()}
		}
		s.allowsSurge = perNode > 0
		if s.maxSurge, err = scaled(ru.MaxSurge, desired, "maxSurge"); err != nil {
			return strategy{rollingUpdate: true, invalid: err.Error()}
		}
	}
	switch {
	case ru.MaxUnavailable != nil:
		if s.maxUnavailable, err = scaled(ru.MaxUnavailable, desired, "maxUnavailable"); err != nil {
			return strategy{rollingUpdate: true, allowsSurge: s.allowsSurge, invalid: err.Error()}
		}
	case s.allowsSurge:
		s.maxUnavailable = 0
	}
	// Neither surge nor unavailability would never replace anything; like the upstream controller, accept one
	// unavailable node instead.
	if desired > 0 && s.maxSurge == 0 && s.maxUnavailable == 0 {
		s.maxUnavailable = 1
	}
	if ru.Partition != nil {
		if s.partition, err = scaled(ru.Partition, desired, "partition"); err != nil {
			return strategy{rollingUpdate: true, allowsSurge: s.allowsSurge, invalid: err.Error()}
		}
		s.partition = min(s.partition, desired)
	}
	return s
}

// scaled resolves an int-or-percent of total, rounding a percent up as the DaemonSet controller does.
func scaled(v *intstr.IntOrString, total int, field string) (int, error) {
	n, err := intstr.GetScaledValueFromIntOrPercent(v, total, true)
	if err != nil {
		return 0, fmt.Errorf("spec.updateStrategy.rollingUpdate.%s: invalid value %q: %v", field, v.String(), err)
	}
	if n < 0 {
		return 0, fmt.Errorf("spec.updateStrategy.rollingUpdate.%s: invalid value %q: must not be negative", field, v.String())
	}
	return n, nil
}

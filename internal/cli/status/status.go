package status

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Verdict is one observation of a rollout.
type Verdict struct {
	// Message is one line for the user, without a trailing newline.
	Message string
	// Done says the wait is over: the rollout finished, or finished as far as the partition lets it.
	Done bool
}

// Evaluate tells how far the set's rollout is. An error means waiting longer cannot help: the set uses OnDelete, or
// it is paused with nodes left to update.
func Evaluate(set *v1alpha1.NodeAgentSet) (Verdict, error) {
	if set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType {
		return Verdict{}, fmt.Errorf("nodeagentset %q uses the OnDelete update strategy: rollout status is only available for the RollingUpdate strategy (pods change only when deleted)", set.Name)
	}
	if set.Generation > set.Status.ObservedGeneration {
		return Verdict{Message: "Waiting for nodeagentset spec update to be observed..."}, nil
	}

	st := set.Status
	desired := st.DesiredNumberScheduled
	if st.UpdatedNumberScheduled >= desired && st.NumberAvailable >= desired {
		return Verdict{Message: fmt.Sprintf("nodeagentset %q successfully rolled out", set.Name), Done: true}, nil
	}

	partition := partitionCount(set)
	toUpdate := desired - partition
	if st.UpdatedNumberScheduled < toUpdate {
		if isPaused(set) {
			return Verdict{}, fmt.Errorf("nodeagentset %q rollout is paused with %d out of %d new pods updated: run \"kubectl nas rollout resume %s\" to continue it",
				set.Name, st.UpdatedNumberScheduled, toUpdate, set.Name)
		}
		if partition > 0 {
			return Verdict{Message: fmt.Sprintf("Waiting for partitioned nodeagentset %q rollout to finish: %d out of %d new pods have been updated...",
				set.Name, st.UpdatedNumberScheduled, toUpdate)}, nil
		}
		return Verdict{Message: fmt.Sprintf("Waiting for nodeagentset %q rollout to finish: %d out of %d new pods have been updated...",
			set.Name, st.UpdatedNumberScheduled, desired)}, nil
	}
	if st.NumberAvailable < desired {
		if partition > 0 {
			// Old and new pods both count here: the partitioned nodes keep old pods on purpose.
			return Verdict{Message: fmt.Sprintf("Waiting for partitioned nodeagentset %q rollout to finish: %d of %d pods are available...",
				set.Name, st.NumberAvailable, desired)}, nil
		}
		return Verdict{Message: fmt.Sprintf("Waiting for nodeagentset %q rollout to finish: %d of %d updated pods are available...",
			set.Name, st.NumberAvailable, desired)}, nil
	}
	// Only a partition can leave nodes un-updated with every pod available.
	return Verdict{
		Message: fmt.Sprintf("nodeagentset %q partitioned roll out complete: %d new pods have been updated, %d kept at the old revision by the partition",
			set.Name, st.UpdatedNumberScheduled, desired-st.UpdatedNumberScheduled),
		Done: true,
	}, nil
}

// CheckRevision fails when the revision a user waits for is not the set's update revision, as kubectl does for a
// Deployment. running is 0 while the update revision is not known yet; that is not a mismatch.
func CheckRevision(want, running int64) error {
	if want > 0 && running > 0 && want != running {
		return fmt.Errorf("desired revision (%d) is different from the running revision (%d)", want, running)
	}
	return nil
}

func isPaused(set *v1alpha1.NodeAgentSet) bool {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	return ru != nil && ru.Paused
}

// partitionCount is how many nodes the partition keeps at the old revision: an absolute number or a percent of
// desiredNumberScheduled rounded up, bounded by desiredNumberScheduled, as the controller computes it.
func partitionCount(set *v1alpha1.NodeAgentSet) int32 {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0
	}
	desired := int(set.Status.DesiredNumberScheduled)
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.Partition, desired, true)
	if err != nil || n < 0 {
		// The webhook rejects malformed partitions; a value that got through anyway partitions nothing.
		return 0
	}
	return int32(min(n, desired))
}

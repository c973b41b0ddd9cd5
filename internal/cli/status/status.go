package status

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Evaluate tells how far the set's rollout is. The judgement is the controller's, read from the set's conditions
// (Ready, Progressing, Stalled and their reasons, for the observed generation); the counters only word the progress
// lines. An error means waiting longer cannot help: the set uses OnDelete, it is paused with nodes left to update,
// its canary failed, or it exceeded its progress deadline.
func Evaluate(set *v1alpha1.NodeAgentSet) (Verdict, error) {
	if set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType {
		return Verdict{}, fmt.Errorf("nodeagentset %q uses the OnDelete update strategy: rollout status is only available for the RollingUpdate strategy (pods change only when deleted)", set.Name)
	}
	if set.Generation > set.Status.ObservedGeneration {
		return Verdict{Message: "Waiting for nodeagentset spec update to be observed..."}, nil
	}

	st := set.Status
	desired := st.DesiredNumberScheduled
	ready := currentCondition(set, v1alpha1.ConditionReady)
	progressing := currentCondition(set, v1alpha1.ConditionProgressing)
	stalled := currentCondition(set, v1alpha1.ConditionStalled)
	partition := partitionCount(set)
	toUpdate := desired - partition

	switch {
	case is(stalled, metav1.ConditionTrue, v1alpha1.ReasonProgressDeadlineExceeded):
		return Verdict{}, fmt.Errorf("nodeagentset %q exceeded its progress deadline", set.Name)
	case is(stalled, metav1.ConditionTrue, v1alpha1.ReasonCanaryFailed):
		reason := stalled.Message
		if st.Canary != nil && st.Canary.Message != "" {
			reason = st.Canary.Message
		}
		return Verdict{}, fmt.Errorf("nodeagentset %q canary failed: %s", set.Name, reason)
	case is(progressing, metav1.ConditionFalse, v1alpha1.ReasonRolloutPaused) && st.UpdatedNumberScheduled < toUpdate:
		return Verdict{}, fmt.Errorf("nodeagentset %q rollout is paused with %d out of %d new pods updated: run \"kubectl nas rollout resume %s\" to continue it",
			set.Name, st.UpdatedNumberScheduled, toUpdate, set.Name)
	case is(ready, metav1.ConditionTrue, v1alpha1.ReasonRolloutComplete):
		return Verdict{Message: fmt.Sprintf("nodeagentset %q successfully rolled out", set.Name), Done: true}, nil
	case ready != nil && ready.Status == metav1.ConditionTrue:
		// Ready short of complete: only a partition (or a pause at it) leaves nodes un-updated with every pod
		// available.
		return Verdict{
			Message: fmt.Sprintf("nodeagentset %q partitioned roll out complete: %d new pods have been updated, %d kept at the old revision by the partition",
				set.Name, st.UpdatedNumberScheduled, desired-st.UpdatedNumberScheduled),
			Done: true,
		}, nil
	case is(progressing, metav1.ConditionFalse, v1alpha1.ReasonCanaryWaitingForPromotion):
		return Verdict{Message: fmt.Sprintf("Waiting for nodeagentset %q canary to be promoted: run \"kubectl nas rollout promote %s\" to continue the rollout...",
			set.Name, set.Name)}, nil
	case is(progressing, metav1.ConditionTrue, v1alpha1.ReasonCanaryRunning):
		return Verdict{Message: fmt.Sprintf("Waiting for nodeagentset %q canary: %s...", set.Name, canaryMessage(st))}, nil
	case is(stalled, metav1.ConditionTrue, v1alpha1.ReasonCanaryNoNodes):
		return Verdict{Message: fmt.Sprintf("Waiting for nodeagentset %q canary: %s...", set.Name, canaryMessage(st))}, nil
	}
	return Verdict{Message: progressLine(set, partition)}, nil
}

// progressLine words a rollout that is still under way from the counters.
func progressLine(set *v1alpha1.NodeAgentSet, partition int32) string {
	st := set.Status
	desired := st.DesiredNumberScheduled
	if toUpdate := desired - partition; st.UpdatedNumberScheduled < toUpdate {
		if partition > 0 {
			return fmt.Sprintf("Waiting for partitioned nodeagentset %q rollout to finish: %d out of %d new pods have been updated...",
				set.Name, st.UpdatedNumberScheduled, toUpdate)
		}
		return fmt.Sprintf("Waiting for nodeagentset %q rollout to finish: %d out of %d new pods have been updated...",
			set.Name, st.UpdatedNumberScheduled, desired)
	}
	if partition > 0 {
		// Old and new pods both count here: the partitioned nodes keep old pods on purpose.
		return fmt.Sprintf("Waiting for partitioned nodeagentset %q rollout to finish: %d of %d pods are available...",
			set.Name, st.NumberAvailable, desired)
	}
	return fmt.Sprintf("Waiting for nodeagentset %q rollout to finish: %d of %d updated pods are available...",
		set.Name, st.NumberAvailable, desired)
}

func canaryMessage(st v1alpha1.NodeAgentSetStatus) string {
	if st.Canary == nil {
		return "starting"
	}
	msg := fmt.Sprintf("%s on %d node(s)", st.Canary.Phase, st.Canary.Nodes)
	if st.Canary.Message != "" {
		msg += ": " + st.Canary.Message
	}
	return msg
}

// currentCondition is the condition of type typ written for the set's current generation; nil when there is none,
// or when it describes an older generation.
func currentCondition(set *v1alpha1.NodeAgentSet, typ string) *metav1.Condition {
	c := meta.FindStatusCondition(set.Status.Conditions, typ)
	if c == nil || c.ObservedGeneration < set.Generation {
		return nil
	}
	return c
}

func is(c *metav1.Condition, status metav1.ConditionStatus, reason string) bool {
	return c != nil && c.Status == status && c.Reason == reason
}

// CheckRevision fails when the revision a user waits for is not the set's update revision, as kubectl does for a
// Deployment. running is 0 while the update revision is not known yet; that is not a mismatch.
func CheckRevision(want, running int64) error {
	if want > 0 && running > 0 && want != running {
		return fmt.Errorf("desired revision (%d) is different from the running revision (%d)", want, running)
	}
	return nil
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

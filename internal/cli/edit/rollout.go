package edit

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/objref"
)

// Pause sets spec.updateStrategy.rollingUpdate.paused. Pausing needs the RollingUpdate strategy (the default when
// spec.updateStrategy.type is empty); a set already paused is an error, as for `kubectl rollout pause`.
func Pause(set *v1alpha1.NodeAgentSet) error {
	if set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType {
		return fmt.Errorf("%s cannot be paused: spec.updateStrategy.type is %s, and only a RollingUpdate rollout can be paused",
			objref.Quoted(set.Name), v1alpha1.OnDeleteStrategyType)
	}
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru != nil && ru.Paused {
		return fmt.Errorf("%s is already paused", objref.Quoted(set.Name))
	}
	if ru == nil {
		set.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{}
	}
	set.Spec.UpdateStrategy.RollingUpdate.Paused = true
	return nil
}

// Resume clears spec.updateStrategy.rollingUpdate.paused; a set that is not paused is an error, as for
// `kubectl rollout resume`.
func Resume(set *v1alpha1.NodeAgentSet) error {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || !ru.Paused {
		return fmt.Errorf("%s is not paused", objref.Quoted(set.Name))
	}
	ru.Paused = false
	return nil
}

// Restart stamps the pod template with the RestartedAtAnnotation at now (RFC 3339), which makes a new revision and so
// replaces every pod. A paused set is refused, as kubectl refuses a paused Deployment: its pods would not be replaced
// until it is resumed.
func Restart(set *v1alpha1.NodeAgentSet, now time.Time) error {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Paused && set.Spec.UpdateStrategy.Type != v1alpha1.OnDeleteStrategyType {
		return fmt.Errorf("can't restart paused %s (run \"kubectl nas rollout resume %s\" first)", objref.Quoted(set.Name), set.Name)
	}
	stamp := now.Format(time.RFC3339)
	if set.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation] == stamp {
		return fmt.Errorf("%s was restarted within the past second (%s=%s); wait a second before restarting it again",
			objref.Quoted(set.Name), v1alpha1.RestartedAtAnnotation, stamp)
	}
	if set.Spec.Template.Annotations == nil {
		set.Spec.Template.Annotations = map[string]string{}
	}
	set.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation] = stamp
	return nil
}

// RestoreTemplate replaces the set's pod template with a revision's and reports whether that changed anything;
// everything else in the set stays. Templates compare semantically (quantities by value, nil equal to empty).
func RestoreTemplate(set *v1alpha1.NodeAgentSet, template *corev1.PodTemplateSpec) bool {
	if TemplateMatches(set, template) {
		return false
	}
	set.Spec.Template = *template.DeepCopy()
	return true
}

// RestoreRevision replaces the set's pod template and node overrides with a revision's and reports whether that
// changed anything; everything else in the set stays. A revision without overrides (an older one, or one adopted
// from a DaemonSet) removes the set's overrides.
func RestoreRevision(set *v1alpha1.NodeAgentSet, template *corev1.PodTemplateSpec, overrides []v1alpha1.NodeOverride) bool {
	sameOverrides := (len(set.Spec.NodeOverrides) == 0 && len(overrides) == 0) ||
		equality.Semantic.DeepEqual(set.Spec.NodeOverrides, overrides)
	if TemplateMatches(set, template) && sameOverrides {
		return false
	}
	set.Spec.Template = *template.DeepCopy()
	set.Spec.NodeOverrides = nil
	for i := range overrides {
		set.Spec.NodeOverrides = append(set.Spec.NodeOverrides, *overrides[i].DeepCopy())
	}
	return true
}

// TemplateMatches reports whether the set's pod template already equals template.
func TemplateMatches(set *v1alpha1.NodeAgentSet, template *corev1.PodTemplateSpec) bool {
	return equality.Semantic.DeepEqual(set.Spec.Template, *template)
}

// RestoreChangeCause gives the set the change-cause its target revision was made with, or none if it had none, as
// a Deployment rollback restores its ReplicaSet's annotations. The controller copies the set's change-cause into
// the revision it renumbers for the rollback; without this, the rolled-back template would be listed under the
// change-cause of the change being undone.
func RestoreChangeCause(set *v1alpha1.NodeAgentSet, rev *appsv1.ControllerRevision) {
	cause, ok := rev.Annotations[v1alpha1.ChangeCauseAnnotation]
	if !ok {
		delete(set.Annotations, v1alpha1.ChangeCauseAnnotation)
		return
	}
	if set.Annotations == nil {
		set.Annotations = map[string]string{}
	}
	set.Annotations[v1alpha1.ChangeCauseAnnotation] = cause
}

// Promote writes the promote-revision annotation naming the set's update revision, which lets a canary that waits
// for a manual promotion go on (and overrides a failed canary whose onFailure is Pause). It refuses, naming the
// phase, when the stored status shows no canary of the update revision that waits for it: a promotion written ahead
// of time would silently skip the canary's manual gate.
func Promote(set *v1alpha1.NodeAgentSet) error {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType || ru == nil || ru.Canary == nil {
		return fmt.Errorf("%s has no canary to promote: spec.updateStrategy.rollingUpdate.canary is not set", objref.Quoted(set.Name))
	}
	if set.Generation > set.Status.ObservedGeneration {
		return fmt.Errorf("%s has changes the controller has not observed yet (generation %d, observed %d); try again once it has",
			objref.Quoted(set.Name), set.Generation, set.Status.ObservedGeneration)
	}
	canary := set.Status.Canary
	update := set.Status.UpdateRevision
	if canary == nil || canary.Revision != update {
		return fmt.Errorf("%s has no canary waiting for promotion: no canary runs for revision %s", objref.Quoted(set.Name), update)
	}
	waiting := canary.Phase == v1alpha1.CanaryPhaseWaitingForPromotion ||
		(canary.Phase == v1alpha1.CanaryPhaseFailed && ru.Canary.OnFailure != v1alpha1.CanaryFailureAbort)
	if !waiting {
		return fmt.Errorf("%s has no canary waiting for promotion: the canary of revision %s is %s", objref.Quoted(set.Name), update, canary.Phase)
	}
	if set.Annotations[v1alpha1.PromoteRevisionAnnotation] == update {
		return fmt.Errorf("%s is already promoted to revision %s", objref.Quoted(set.Name), update)
	}
	if set.Annotations == nil {
		set.Annotations = map[string]string{}
	}
	set.Annotations[v1alpha1.PromoteRevisionAnnotation] = update
	return nil
}

package placement

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// NewPod builds the pod that set runs on nodeName, labelled with the revision hash. It is a deep copy of the
// template with the set's namespace, the name prefix "<set>-", the controller-revision-hash label,
// cluster-autoscaler's daemonset-pod annotation, a controller owner reference that blocks the owner's foreground
// deletion until the pod is gone, the default tolerations, and a required node affinity that selects only
// nodeName. spec.nodeName is left as the template has it (normally empty), so the default scheduler binds the pod
// and checks resources and ports. set is not modified.
func NewPod(set *v1alpha1.NodeAgentSet, nodeName, hash string) *corev1.Pod {
	return NewPodFromTemplate(set, &set.Spec.Template, nodeName, hash)
}

// NewPodFromTemplate is NewPod for a template other than the set's current one: a pod of an older revision, whose
// template comes from its ControllerRevision. Neither set nor template is modified.
func NewPodFromTemplate(set *v1alpha1.NodeAgentSet, template *corev1.PodTemplateSpec, nodeName, hash string) *corev1.Pod {
	template = template.DeepCopy()

	labels := make(map[string]string, len(template.Labels)+1)
	for k, v := range template.Labels {
		labels[k] = v
	}
	labels[v1alpha1.ControllerRevisionHashLabel] = hash
	// cluster-autoscaler recognises DaemonSet pods by their owner's kind or by this annotation: with it, a node's
	// agent does not block scaling the node down and is counted in the templates of new nodes. A value the template
	// sets itself (an opt-out) is kept.
	annotations := make(map[string]string, len(template.Annotations)+1)
	annotations[v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation] = "true"
	for k, v := range template.Annotations {
		annotations[k] = v
	}

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       set.Namespace,
			GenerateName:    set.Name + "-",
			Labels:          labels,
			Annotations:     annotations,
			Finalizers:      template.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))},
		},
		Spec: template.Spec,
	}
	AddDefaultTolerations(&pod.Spec)
	pod.Spec.Affinity = pinToNode(pod.Spec.Affinity, nodeName)
	return pod
}

// NewPodWithOverride is NewPodFromTemplate with a spec.nodeOverrides entry applied to the template (nil for none).
// The pod records the override's name in the NodeOverrideAnnotation.
func NewPodWithOverride(set *v1alpha1.NodeAgentSet, template *corev1.PodTemplateSpec, o *v1alpha1.NodeOverride, nodeName, hash string) *corev1.Pod {
	pod := NewPodFromTemplate(set, ApplyOverride(template, o), nodeName, hash)
	if o != nil {
		annotations := make(map[string]string, len(pod.Annotations)+1)
		for k, v := range pod.Annotations {
			annotations[k] = v
		}
		annotations[v1alpha1.NodeOverrideAnnotation] = o.Name
		pod.Annotations = annotations
	}
	return pod
}

// pinToNode makes the required node affinity select exactly nodeName by its metadata.name field. As for DaemonSet
// pods, the pin replaces the required node selector terms: the controller has already checked that the node
// matches them, so the name alone is both sufficient and unambiguous for the scheduler. Preferred node affinity and
// pod (anti-)affinity stay as the template has them.
func pinToNode(affinity *corev1.Affinity, nodeName string) *corev1.Affinity {
	pin := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{
			Key:      metav1.ObjectNameField,
			Operator: corev1.NodeSelectorOpIn,
			Values:   []string{nodeName},
		}},
	}}}
	if affinity == nil {
		affinity = &corev1.Affinity{}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = pin
	return affinity
}

// TargetNodeName is the node a pod of a set runs on or is meant for: spec.nodeName once bound, otherwise the single
// value of the metadata.name matchFields requirement in its required node affinity.
func TargetNodeName(pod *corev1.Pod) (string, error) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, nil
	}
	if pod.Spec.Affinity == nil || pod.Spec.Affinity.NodeAffinity == nil ||
		pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", fmt.Errorf("pod %s/%s: spec.nodeName is empty and spec.affinity.nodeAffinity."+
			"requiredDuringSchedulingIgnoredDuringExecution is not set", pod.Namespace, pod.Name)
	}
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i := range terms {
		for _, req := range terms[i].MatchFields {
			if req.Key != metav1.ObjectNameField || req.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			if len(req.Values) != 1 {
				return "", fmt.Errorf("pod %s/%s: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."+
					"nodeSelectorTerms[%d].matchFields %s In has %d values %q, want exactly one node name",
					pod.Namespace, pod.Name, i, metav1.ObjectNameField, len(req.Values), req.Values)
			}
			return req.Values[0], nil
		}
	}
	return "", fmt.Errorf("pod %s/%s: spec.nodeName is empty and no nodeSelectorTerm of "+
		"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution has a matchFields %s In requirement",
		pod.Namespace, pod.Name, metav1.ObjectNameField)
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether the pod counts as available at now, with kubectl's podutils semantics: ready, and
// either minReadySeconds is 0 or it has been ready for at least minReadySeconds (see ReadySince). With
// minReadySeconds 0 a ready pod is available at once, whatever its Ready transition time says: a kubelet whose clock
// runs ahead of the controller's must not hold a rollout back. A ready pod without a transition time is not
// available when minReadySeconds is positive, since how long it has been ready is unknown.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	since, ready := ReadySince(pod)
	return AvailableGivenReadiness(since, ready, minReadySeconds, now)
}

// AvailableGivenReadiness is IsPodAvailable for a pod whose ReadySince answer (since, ready) is already known, for
// callers that need both and would otherwise work the readiness out twice.
func AvailableGivenReadiness(since time.Time, ready bool, minReadySeconds int32, now time.Time) bool {
	if !ready {
		// Not ready, or patched in place and not yet restarted on its new images.
		return false
	}
	if minReadySeconds <= 0 {
		return true
	}
	at, ok := availableFrom(since, ready, minReadySeconds)
	return ok && !at.After(now)
}

// AvailableAt is when a ready pod becomes available: ReadySince plus minReadySeconds. ok is false when the pod is not
// ready, when minReadySeconds is 0 (availability then does not depend on time: a ready pod is available), or when
// the ready time is unknown. A time after now means the pod becomes available then with no other change, so a
// reconcile must look again at that moment. A pod whose images were patched in place is not ready in this sense
// until the kubelet reports each changed container restarted on its new image (see ReadySince), so maxUnavailable
// holds for it as for a recreated pod.
func AvailableAt(pod *corev1.Pod, minReadySeconds int32) (at time.Time, ok bool) {
	if minReadySeconds <= 0 {
		return time.Time{}, false
	}
	since, ready := ReadySince(pod)
	return availableFrom(since, ready, minReadySeconds)
}

// availableFrom is AvailableAt's rule for a known ReadySince answer: the ready time plus minReadySeconds, not ok when
// the pod is not ready or its ready time is unknown.
func availableFrom(since time.Time, ready bool, minReadySeconds int32) (time.Time, bool) {
	if !ready || since.IsZero() {
		return time.Time{}, false
	}
	return since.Add(time.Duration(minReadySeconds) * time.Second), true
}

// ReadySince is when the pod became ready, as far as the controller can tell; ok is false when it is not ready (for a
// pod patched in place, also while the kubelet has not restarted the changed containers on their new images). It is
// the Ready condition's lastTransitionTime, or for a pod patched in place the start of its last changed container if
// that is later (see inPlaceUpdateProgress), which the kubelet stamps with the node's clock, capped at the time the
// API server recorded the pod's latest status write (the managedFields entry of the status subresource, stamped with
// the API server's clock): a pod cannot have become ready after the status saying so was stored. Without the cap a
// kubelet clock running ahead would keep the pod unavailable for minReadySeconds plus the skew; with it the wait is
// about minReadySeconds, and never shorter. Without managedFields (stripped, or a hand-made object) the transition
// time is taken as it is.
func ReadySince(pod *corev1.Pod) (time.Time, bool) {
	c := readyCondition(pod)
	if c == nil || c.Status != corev1.ConditionTrue {
		return time.Time{}, false
	}
	pending, restartedAt := inPlaceUpdateProgress(pod)
	if pending {
		return time.Time{}, false
	}
	since := c.LastTransitionTime.Time
	if !since.IsZero() && restartedAt.After(since) {
		since = restartedAt
	}
	if written, ok := LastStatusWrite(pod); ok && !since.IsZero() && since.After(written) {
		since = written
	}
	return since, true
}

// LastStatusWrite is when the API server last stored a write of the pod's status subresource, from managedFields;
// ok is false when no such entry has a time.
func LastStatusWrite(pod *corev1.Pod) (time.Time, bool) {
	var latest time.Time
	for _, e := range pod.ManagedFields {
		if e.Subresource == "status" && e.Time != nil && e.Time.After(latest) {
			latest = e.Time.Time
		}
	}
	return latest, !latest.IsZero()
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

package placement

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// NewPod builds the pod that set runs on nodeName, labelled with the revision hash. It is a deep copy of the
// template with the set's namespace, the name prefix "<set>-", the controller-revision-hash label, a controller
// owner reference that blocks the owner's foreground deletion until the pod is gone, the default tolerations, and
// a required node affinity that selects only nodeName. spec.nodeName is left as the template has it (normally
// empty), so the default scheduler binds the pod and checks resources and ports. set is not modified.
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

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       set.Namespace,
			GenerateName:    set.Name + "-",
			Labels:          labels,
			Annotations:     template.Annotations,
			Finalizers:      template.Finalizers,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))},
		},
		Spec: template.Spec,
	}
	AddDefaultTolerations(&pod.Spec)
	pod.Spec.Affinity = pinToNode(pod.Spec.Affinity, nodeName)
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

// IsPodAvailable reports whether the pod has been ready for at least minReadySeconds at now. With minReadySeconds 0
// a ready pod is available at once. A ready pod without a transition time is not available when minReadySeconds is
// positive, since how long it has been ready is unknown.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	at, ok := AvailableAt(pod, minReadySeconds)
	return ok && !at.After(now)
}

// AvailableAt is when a ready pod becomes available: the Ready condition's lastTransitionTime plus minReadySeconds.
// ok is false when the pod is not ready, or when minReadySeconds is positive and the transition time is unknown.
// With minReadySeconds 0 a ready pod is available from its transition time (the zero time if that is unknown).
// A pod whose images were patched in place is not ready in this sense until the kubelet reports each changed
// container restarted on its new image, so maxUnavailable holds for it as for a recreated pod.
func AvailableAt(pod *corev1.Pod, minReadySeconds int32) (at time.Time, ok bool) {
	c := readyCondition(pod)
	if c == nil || c.Status != corev1.ConditionTrue || inPlaceUpdatePending(pod) {
		return time.Time{}, false
	}
	if minReadySeconds <= 0 {
		return c.LastTransitionTime.Time, true
	}
	if c.LastTransitionTime.IsZero() {
		return time.Time{}, false
	}
	return c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second), true
}

func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

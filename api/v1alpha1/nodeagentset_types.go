package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NodeAgentSetUpdateStrategyType names how pods are replaced when the pod template changes.
// +kubebuilder:validation:Enum=RollingUpdate;OnDelete
type NodeAgentSetUpdateStrategyType string

const (
	// RollingUpdateStrategyType replaces old pods with new ones, bounded by maxUnavailable or maxSurge.
	RollingUpdateStrategyType NodeAgentSetUpdateStrategyType = "RollingUpdate"
	// OnDeleteStrategyType replaces a pod only after someone deletes it.
	OnDeleteStrategyType NodeAgentSetUpdateStrategyType = "OnDelete"
)

// NodeAgentSetUpdateStrategy is apps/v1 DaemonSetUpdateStrategy plus the rollout controls in RollingUpdate.
type NodeAgentSetUpdateStrategy struct {
	// Type of update: "RollingUpdate" (the default) or "OnDelete".
	// +optional
	Type NodeAgentSetUpdateStrategyType `json:"type,omitempty"`

	// RollingUpdate tunes the rollout; only with type RollingUpdate.
	// +optional
	RollingUpdate *RollingUpdateNodeAgentSet `json:"rollingUpdate,omitempty"`
}

// RollingUpdateNodeAgentSet tunes a rolling update. maxUnavailable and maxSurge mean what they mean for a DaemonSet;
// paused and partition are NodeAgentSet additions for staged rollouts.
//
// The schema rules below repeat, for when the admission webhook is not installed, the checks on the bounds that
// need no Go code; the webhook applies the complete rules (valid percents, at most 100%, not both non-zero).
// +kubebuilder:validation:XValidation:rule="!has(self.maxUnavailable) || !has(self.maxSurge) || !((type(self.maxUnavailable) == int ? self.maxUnavailable == 0 : self.maxUnavailable.matches('^0+%$')) && (type(self.maxSurge) == int ? self.maxSurge == 0 : self.maxSurge.matches('^0+%$')))",message="cannot be 0 when maxSurge is 0",fieldPath=".maxUnavailable",reason=FieldValueRequired
type RollingUpdateNodeAgentSet struct {
	// MaxUnavailable is how many eligible nodes may lack an available pod during the update: a number or a percent
	// of desiredNumberScheduled (rounded up). Defaults to 1 when maxSurge is not set, otherwise to 0.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// MaxSurge is how many nodes may run an extra, updated pod beside the old one during the update: a number or a
	// percent of desiredNumberScheduled (rounded up). The old pod goes once the new one has been available for
	// minReadySeconds. Defaults to 0. maxSurge and maxUnavailable cannot both be non-zero.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`

	// Paused stops the replacement of old pods while true. Nodes without a pod still get one, and failed pods are
	// still replaced.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// Partition is how many eligible nodes keep a pod of the old revision: a number or a percent of
	// desiredNumberScheduled (rounded up). Lowering it continues the rollout; 0 (the default) updates every node.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	Partition *intstr.IntOrString `json:"partition,omitempty"`

	// PodUpdatePolicy says how a pod moves to the update revision. Recreate (the default) deletes it and creates a
	// new pod. InPlaceIfPossible patches the container images of a pod whose revision differs from the update
	// revision only in container images (and pod labels and annotations): one write instead of two, no scheduling,
	// and the pod keeps its name, UID, IP and volumes; the kubelet restarts the changed containers. Any other change
	// recreates the pod. Applies without maxSurge; with maxSurge pods are always recreated.
	// +optional
	PodUpdatePolicy PodUpdatePolicyType `json:"podUpdatePolicy,omitempty"`
}

// PodUpdatePolicyType names how a rolling update moves a pod to the update revision.
// +kubebuilder:validation:Enum=Recreate;InPlaceIfPossible
type PodUpdatePolicyType string

const (
	// RecreatePodUpdatePolicy deletes the old pod and creates a new one, as a DaemonSet does.
	RecreatePodUpdatePolicy PodUpdatePolicyType = "Recreate"
	// InPlaceIfPossiblePodUpdatePolicy patches the images of a pod whose revision differs only in container images.
	InPlaceIfPossiblePodUpdatePolicy PodUpdatePolicyType = "InPlaceIfPossible"
)

// NodeAgentSetSpec is the desired state of a NodeAgentSet, field for field an apps/v1 DaemonSetSpec.
type NodeAgentSetSpec struct {
	// Selector is a label query over the pods the set manages. It must match the pod template's labels and cannot
	// change after creation.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="field is immutable"
	// +kubebuilder:validation:XValidation:rule="(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",message="empty selector is invalid for a NodeAgentSet: it would select every pod in the namespace"
	Selector *metav1.LabelSelector `json:"selector"`

	// Template is the pod that runs on every eligible node. Its restartPolicy must be Always.
	Template corev1.PodTemplateSpec `json:"template"`

	// UpdateStrategy says how pods are replaced when the template changes.
	// +optional
	UpdateStrategy NodeAgentSetUpdateStrategy `json:"updateStrategy,omitempty"`

	// MinReadySeconds is how long a new pod must be ready, with no container crashing, to count as available.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`

	// RevisionHistoryLimit is how many old ControllerRevisions to keep for rollback. Defaults to 10.
	// +optional
	// +kubebuilder:validation:Minimum=0
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// NodeAgentSetStatus is the observed state of a NodeAgentSet: the apps/v1 DaemonSetStatus fields plus the current
// and update revisions. Every field is recomputed from the nodes and pods the controller observes.
type NodeAgentSetStatus struct {
	// CurrentNumberScheduled is the number of eligible nodes running at least one of the set's pods.
	CurrentNumberScheduled int32 `json:"currentNumberScheduled"`

	// NumberMisscheduled is the number of nodes running one of the set's pods that should not run it.
	NumberMisscheduled int32 `json:"numberMisscheduled"`

	// DesiredNumberScheduled is the number of nodes that should run the set's pod.
	DesiredNumberScheduled int32 `json:"desiredNumberScheduled"`

	// NumberReady is the number of eligible nodes whose pod is ready.
	NumberReady int32 `json:"numberReady"`

	// ObservedGeneration is the generation the controller last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// UpdatedNumberScheduled is the number of eligible nodes running a pod of the update revision.
	// +optional
	UpdatedNumberScheduled int32 `json:"updatedNumberScheduled"`

	// NumberAvailable is the number of eligible nodes whose pod has been ready for at least minReadySeconds.
	// +optional
	NumberAvailable int32 `json:"numberAvailable"`

	// NumberUnavailable is desiredNumberScheduled minus numberAvailable.
	// +optional
	NumberUnavailable int32 `json:"numberUnavailable"`

	// CollisionCount counts revision-name hash collisions; it is mixed into the hash to make names unique.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`

	// Conditions are kstatus-style: Ready, Progressing, Reconciling and Stalled (see the Condition* constants).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// CurrentRevision is the name of the ControllerRevision that the most nodes ran before the update started.
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty"`

	// UpdateRevision is the name of the ControllerRevision of the current pod template.
	// +optional
	UpdateRevision string `json:"updateRevision,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=nas,categories=all
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredNumberScheduled`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.currentNumberScheduled`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.numberReady`
// +kubebuilder:printcolumn:name="Up-to-date",type=integer,JSONPath=`.status.updatedNumberScheduled`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.numberAvailable`
// +kubebuilder:printcolumn:name="Node Selector",type=string,JSONPath=`.spec.template.spec.nodeSelector`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// NodeAgentSet runs one copy of a pod on every eligible node, like an apps/v1 DaemonSet, with rollout controls.
type NodeAgentSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NodeAgentSetSpec   `json:"spec,omitempty"`
	Status NodeAgentSetStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// NodeAgentSetList is a list of NodeAgentSets.
type NodeAgentSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeAgentSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodeAgentSet{}, &NodeAgentSetList{})
}

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
// ---
// The rules on the two bounds together live here rather than on RollingUpdateNodeAgentSet because they apply only
// to a rolling update (an unset type is one), and only this level sees the type. They read unset bounds as the
// defaults do: an unset maxSurge is 0, and an unset maxUnavailable is 1 or, beside a non-zero maxSurge, 0, so
// neither can make both bounds zero or both non-zero. A bound is zero when it is 0 or a percent of zeros, and
// non-zero when it is a positive integer or a valid percent from 1% to 100%; an invalid bound is neither, so only
// its own error is reported. The apiserver leaves the value out of an error on an object, so the message of the
// maxSurge rule starts with it, and the error reads as a field error does: path, value, reason.
// +kubebuilder:validation:XValidation:rule="self.?type.orValue('RollingUpdate') != 'RollingUpdate' || !has(self.rollingUpdate) || !has(self.rollingUpdate.maxUnavailable) || !(type(self.rollingUpdate.maxUnavailable) == int ? self.rollingUpdate.maxUnavailable == 0 : self.rollingUpdate.maxUnavailable.matches('^0+%$')) || (has(self.rollingUpdate.maxSurge) && !(type(self.rollingUpdate.maxSurge) == int ? self.rollingUpdate.maxSurge == 0 : self.rollingUpdate.maxSurge.matches('^0+%$')))",message="cannot be 0 when maxSurge is 0",fieldPath=".rollingUpdate.maxUnavailable",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="self.?type.orValue('RollingUpdate') != 'RollingUpdate' || !has(self.rollingUpdate) || !has(self.rollingUpdate.maxUnavailable) || !has(self.rollingUpdate.maxSurge) || !((type(self.rollingUpdate.maxUnavailable) == int ? self.rollingUpdate.maxUnavailable > 0 : self.rollingUpdate.maxUnavailable.matches('^0*([1-9][0-9]?|100)%$')) && (type(self.rollingUpdate.maxSurge) == int ? self.rollingUpdate.maxSurge > 0 : self.rollingUpdate.maxSurge.matches('^0*([1-9][0-9]?|100)%$')))",message="may not be set when maxUnavailable is non-zero",messageExpression=`(type(self.rollingUpdate.maxSurge) == string ? '"' + self.rollingUpdate.maxSurge + '"' : string(self.rollingUpdate.maxSurge)) + ': may not be set when maxUnavailable is non-zero'`,fieldPath=".rollingUpdate.maxSurge"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'OnDelete' || !has(self.rollingUpdate) || !has(self.rollingUpdate.canary)",message="may not be set when updateStrategy.type is OnDelete",fieldPath=".rollingUpdate.canary",reason=FieldValueForbidden
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
// ---
// maxUnavailable, maxSurge, partition and canary.replicas each carry the same three rules, as IsValidPercent and
// a DaemonSet's bounds have them: an integer is not negative, a string is a percent (with upstream's message for
// one that is not), and a percent is at most 100% (a regex, so no number is parsed). How the bounds go together
// is checked on NodeAgentSetUpdateStrategy.
type RollingUpdateNodeAgentSet struct {
	// MaxUnavailable is how many eligible nodes may lack an available pod during the update: a number or a percent
	// of desiredNumberScheduled (rounded up). Defaults to 1 when maxSurge is not set, otherwise to 0.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || self.matches('^[0-9]+%$')",message="a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*(100|[1-9]?[0-9])%$')",message="must not be greater than 100%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// MaxSurge is how many nodes may run an extra, updated pod beside the old one during the update: a number or a
	// percent of desiredNumberScheduled (rounded up). The old pod goes once the new one has been available for
	// minReadySeconds. Defaults to 0. maxSurge and maxUnavailable cannot both be non-zero.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || self.matches('^[0-9]+%$')",message="a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*(100|[1-9]?[0-9])%$')",message="must not be greater than 100%"
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
	// +kubebuilder:validation:XValidation:rule="type(self) == int || self.matches('^[0-9]+%$')",message="a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*(100|[1-9]?[0-9])%$')",message="must not be greater than 100%"
	Partition *intstr.IntOrString `json:"partition,omitempty"`

	// Canary, when set, updates a few canary nodes first and validates them before any other node is touched.
	// Absent means no canary phase.
	// +optional
	Canary *NodeAgentSetCanary `json:"canary,omitempty"`

	// PodUpdatePolicy says how a pod moves to the update revision. Recreate (the default) deletes it and creates a
	// new pod. InPlaceIfPossible patches the container images of a pod whose revision differs from the update
	// revision only in the images of containers and sidecars (init containers with restartPolicy Always), and in pod
	// labels and annotations (which the patch carries over too): one write instead of two, no scheduling, and the
	// pod keeps its name, UID, IP and volumes; the kubelet restarts the changed containers. Any other change recreates the pod, a new image for any
	// other init container too (the kubelet does not run those again in a running pod). Applies without maxSurge;
	// with maxSurge pods are always recreated.
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

// CanaryPromotion says how a canary that passed lets the rollout go on.
// +kubebuilder:validation:Enum=Auto;Manual
type CanaryPromotion string

const (
	// CanaryPromotionAuto goes on as soon as the canary passed.
	CanaryPromotionAuto CanaryPromotion = "Auto"
	// CanaryPromotionManual waits until the set carries the promote-revision annotation naming the update revision.
	CanaryPromotionManual CanaryPromotion = "Manual"
)

// CanaryFailurePolicy says what happens to the canary nodes when the canary fails.
// +kubebuilder:validation:Enum=Pause;Abort
type CanaryFailurePolicy string

const (
	// CanaryFailurePause holds the rollout where it is; the canary nodes keep the update revision.
	CanaryFailurePause CanaryFailurePolicy = "Pause"
	// CanaryFailureAbort also puts the canary nodes back on the revision the other nodes run, within the budgets.
	CanaryFailureAbort CanaryFailurePolicy = "Abort"
)

// Canary defaults, applied by the mutating webhook and assumed by the controller when a field is unset.
const (
	DefaultCanaryMaxRestarts       int32 = 2
	DefaultProgressDeadlineSeconds int32 = 600
	DefaultCanaryPromotion               = CanaryPromotionAuto
	DefaultCanaryFailurePolicy           = CanaryFailurePause
)

// NodeAgentSetCanary is the canary phase of a rolling update: whenever the update revision changes, the canary
// nodes are updated first (within maxUnavailable/maxSurge), and the rest of the nodes wait until every canary pod
// has been available for duration without a container restart.
type NodeAgentSetCanary struct {
	// NodeSelector picks the canary nodes by node labels; unset means any eligible node.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`

	// Replicas is how many eligible nodes form the canary, taken in node-name order: a number or a percent of
	// desiredNumberScheduled (rounded up). Defaults to 1 without nodeSelector, and to every matching node with one.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == string || self >= 0",message="must be greater than or equal to 0"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || self.matches('^[0-9]+%$')",message="a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*(100|[1-9]?[0-9])%$')",message="must not be greater than 100%"
	Replicas *intstr.IntOrString `json:"replicas,omitempty"`

	// Duration is how long every canary pod must stay available without a container restart before the canary
	// passes. Defaults to 0.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="must be greater than or equal to 0"
	Duration *metav1.Duration `json:"duration,omitempty"`

	// Promotion is Auto (the default: go on once the canary passed) or Manual (wait for the annotation
	// apps.nodeagentset.io/promote-revision naming status.updateRevision).
	// +optional
	Promotion CanaryPromotion `json:"promotion,omitempty"`

	// MaxRestarts is how many container restarts of one canary pod fail the canary (0 and 1 both mean the first
	// restart). Defaults to 2.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxRestarts *int32 `json:"maxRestarts,omitempty"`

	// OnFailure is Pause (the default: hold the rollout) or Abort (also put the canary nodes back on the revision
	// the other nodes run).
	// +optional
	OnFailure CanaryFailurePolicy `json:"onFailure,omitempty"`
}

// NodeAgentSetSpec is the desired state of a NodeAgentSet, field for field an apps/v1 DaemonSetSpec, plus
// progressDeadlineSeconds.
// ---
// A negative progressDeadlineSeconds has its own error (Minimum), so the deadline rule skips it. The message
// starts with the value, which the apiserver leaves out of an error on an object. It converts the value through
// dyn: the cost estimator gives string() of an integer field no size bound, and refuses the CRD, but bounds a dyn
// by the request size.
// +kubebuilder:validation:XValidation:rule="!has(self.progressDeadlineSeconds) || self.progressDeadlineSeconds < 0 || self.progressDeadlineSeconds > self.?minReadySeconds.orValue(0)",message="must be greater than minReadySeconds",messageExpression="string(dyn(self.progressDeadlineSeconds)) + ': must be greater than minReadySeconds'",fieldPath=".progressDeadlineSeconds"
type NodeAgentSetSpec struct {
	// Selector is a label query over the pods the set manages. It must match the pod template's labels and cannot
	// change after creation.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="field is immutable"
	// +kubebuilder:validation:XValidation:rule="(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",message="empty selector is invalid for a NodeAgentSet: it would select every pod in the namespace"
	Selector *metav1.LabelSelector `json:"selector"`

	// Template is the pod that runs on every eligible node. Its restartPolicy must be Always (or unset), it may not
	// set activeDeadlineSeconds or ephemeralContainers, and it needs at least one container.
	// ---
	// A node agent runs until the set removes it: a pod that completes or fails must restart in place, a deadline
	// would kill agents that work as intended, and ephemeral containers belong to running pods, not templates. An
	// unset or empty restartPolicy is Always (the defaulting webhook writes it, and a pod defaults to it), so only
	// another value is refused. Each rule reads fixed paths and sizes, never walks a list, so it costs the same for any
	// template.
	// +kubebuilder:validation:XValidation:rule="self.?spec.?restartPolicy.orValue('Always') in ['Always', '']",message=`supported values: "Always"`,messageExpression=`'"' + self.spec.restartPolicy + '": supported values: "Always"'`,fieldPath=".spec.restartPolicy"
	// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.activeDeadlineSeconds)",message="activeDeadlineSeconds in NodeAgentSet is not supported: its pods run until the set removes them",fieldPath=".spec.activeDeadlineSeconds",reason=FieldValueForbidden
	// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.ephemeralContainers) || size(self.spec.ephemeralContainers) == 0",message="ephemeral containers not allowed in pod template",fieldPath=".spec.ephemeralContainers",reason=FieldValueForbidden
	// +kubebuilder:validation:XValidation:rule="has(self.spec) && has(self.spec.containers) && size(self.spec.containers) > 0",message="must have at least one container",fieldPath=".spec.containers",reason=FieldValueRequired
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

	// ProgressDeadlineSeconds is how long a rollout may go without progress (no node gaining an available pod of
	// the update revision) before it is reported as failed: Progressing False and Stalled True with reason
	// ProgressDeadlineExceeded. Time paused, held by the partition or waiting for a manual canary promotion does not
	// count. Defaults to 600; must be greater than minReadySeconds.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// NodeOverrides change container resources and environment on the nodes a selector picks, for node classes that
	// need other settings than the template's. The first entry whose nodeSelector matches a node applies there;
	// nodes no entry matches run the template as it is. The overrides are part of the revision: changing them rolls
	// out under the update strategy, and only the nodes whose pod changes get a new one.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	NodeOverrides []NodeOverride `json:"nodeOverrides,omitempty"`
}

// CanaryPhase is where the canary of the update revision stands.
type CanaryPhase string

const (
	// CanaryPhaseRunning: the canary nodes are being updated and validated.
	CanaryPhaseRunning CanaryPhase = "Running"
	// CanaryPhaseWaitingForPromotion: the canary passed and waits for a manual promotion.
	CanaryPhaseWaitingForPromotion CanaryPhase = "WaitingForPromotion"
	// CanaryPhasePassed: the canary passed (and was promoted); the rest of the rollout goes on.
	CanaryPhasePassed CanaryPhase = "Passed"
	// CanaryPhaseFailed: a canary pod restarted too often or showed a failure reason.
	CanaryPhaseFailed CanaryPhase = "Failed"
)

// NodeAgentSetCanaryStatus is the canary of the update revision as the controller last judged it. The phase is
// kept across passes (and controller restarts): Passed and Failed hold until the update revision changes.
type NodeAgentSetCanaryStatus struct {
	// Revision is the ControllerRevision the canary validates.
	Revision string `json:"revision"`
	// Nodes is how many nodes form the canary.
	Nodes int32 `json:"nodes"`
	// Phase is Running, WaitingForPromotion, Passed or Failed.
	Phase CanaryPhase `json:"phase"`
	// StartedAt is when the canary of this revision started.
	StartedAt metav1.Time `json:"startedAt"`
	// Message says why the canary is in its phase (for Failed, the failure reason).
	// +optional
	Message string `json:"message,omitempty"`
}

// NodeOverride is what changes in the pod on the nodes one selector picks.
type NodeOverride struct {
	// Name identifies the override (a DNS label, unique in the set). The pods it applies to carry it in the
	// apps.nodeagentset.io/node-override annotation, and status.nodeOverrides counts its nodes by it.
	// ---
	// The format library checks the label as the apiserver checks any name, with its message; maxLength keeps the
	// rule's estimated cost small and rules out upstream's second message (too long), so the first is the one.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="!format.dns1123Label().validate(self).hasValue()",message="must be a DNS label",messageExpression="format.dns1123Label().validate(self).value()[0]"
	Name string `json:"name"`

	// NodeSelector is a label query over nodes. An empty selector matches every node.
	NodeSelector metav1.LabelSelector `json:"nodeSelector"`

	// Containers are the changes per container of the template, by container name (regular or init container).
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	Containers []ContainerOverride `json:"containers"`
}

// ContainerOverride changes one container of the template. Only resources and env can be overridden.
type ContainerOverride struct {
	// Name is the name of a container (or init container) in the pod template.
	Name string `json:"name"`

	// Resources replace the container's resources when set: requests and limits are each merged by resource name
	// into the template's (a resource named here wins, the others stay).
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Env is merged into the container's environment by name: a variable of the same name is replaced in place,
	// a new one is appended.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
}

// NodeOverrideStatus says how many nodes an override covers.
type NodeOverrideStatus struct {
	// Name of the override in spec.nodeOverrides.
	Name string `json:"name"`
	// Nodes is the number of eligible nodes the override applies to (the first matching entry wins).
	Nodes int32 `json:"nodes"`
	// UpdatedNodes is how many of them run a pod of the update revision with this override.
	UpdatedNodes int32 `json:"updatedNodes"`
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

	// Canary is the canary of the update revision, while the rolling update has one.
	// +optional
	Canary *NodeAgentSetCanaryStatus `json:"canary,omitempty"`

	// ProgressDeadlineBase is when the progress deadline of the current rollout started counting: the latest of the
	// rollout starting or resuming and a node last gaining an available pod of the update revision. Unset while no
	// rollout counts towards the deadline (complete, paused, held by the partition, waiting for a promotion).
	// +optional
	ProgressDeadlineBase *metav1.Time `json:"progressDeadlineBase,omitempty"`
	// NodeOverrides lists, for each entry of spec.nodeOverrides in order, how many eligible nodes it covers.
	// +optional
	// +listType=map
	// +listMapKey=name
	NodeOverrides []NodeOverrideStatus `json:"nodeOverrides,omitempty"`
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

package v1alpha1

// Condition types in status.conditions. They follow the kstatus conventions (sigs.k8s.io/cli-utils kstatus), so
// `kubectl wait --for=condition=Ready`, Flux and Argo CD read a NodeAgentSet's health without custom code:
//   - Ready is True once every eligible node runs an available pod of the update revision for the observed
//     generation (or, while paused or partitioned, every node that should be updated is).
//   - Progressing is True while a rollout moves and after it completed (reason RolloutComplete), False while paused.
//   - Reconciling is present and True while the controller still works towards the spec (abnormal-true: absent or
//     False when done).
//   - Stalled is present and True while the controller cannot make progress without help (pods fail, creates are
//     refused).
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Condition reasons.
const (
	// ReasonRolloutComplete: every eligible node runs an available pod of the update revision.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonRollingUpdate: pods of an older revision are being replaced.
	ReasonRollingUpdate = "RollingUpdate"
	// ReasonPodsUnavailable: every pod is of the update revision but some eligible nodes lack an available pod.
	ReasonPodsUnavailable = "PodsUnavailable"
	// ReasonRolloutPaused: spec.updateStrategy.rollingUpdate.paused is true and old pods remain.
	ReasonRolloutPaused = "RolloutPaused"
	// ReasonPartitioned: the rollout reached the partition; the partitioned nodes keep the old revision.
	ReasonPartitioned = "Partitioned"
	// ReasonOnDelete: the strategy is OnDelete and old pods wait to be deleted by someone.
	ReasonOnDelete = "OnDeleteWaiting"
	// ReasonGenerationNotObserved: the controller has not acted on the latest spec yet.
	ReasonGenerationNotObserved = "GenerationNotObserved"
	// ReasonPodsFailing: pods of the set keep failing on some nodes and are recreated with backoff.
	ReasonPodsFailing = "PodsFailing"
	// ReasonCreateFailed: the API server refused to create pods.
	ReasonCreateFailed = "FailedCreate"
	// ReasonPodsUnschedulable: some created pods cannot be scheduled on their node.
	ReasonPodsUnschedulable = "PodsUnschedulable"
	// ReasonInvalidUpdateStrategy: spec.updateStrategy cannot be resolved (an unsupported type or a malformed
	// int-or-percent); the rolling update waits until the spec is fixed.
	ReasonInvalidUpdateStrategy = "InvalidUpdateStrategy"
	// ReasonSelectorMismatch: spec.selector does not match the template's labels (possible only without the
	// admission webhook); no pod is created until the spec is fixed.
	ReasonSelectorMismatch = "SelectorMismatch"
	// ReasonInvalidSelector: spec.selector is empty or cannot be parsed (possible only without the admission
	// webhook); nothing is written until the spec is fixed.
	ReasonInvalidSelector = "InvalidSelector"

	// ReasonCanaryRunning: the canary nodes run the update revision and are being validated.
	ReasonCanaryRunning = "CanaryRunning"
	// ReasonCanaryWaitingForPromotion: the canary passed and promotion is Manual; the rollout waits for the
	// promote-revision annotation.
	ReasonCanaryWaitingForPromotion = "CanaryWaitingForPromotion"
	// ReasonCanaryFailed: a canary pod restarted too often or showed a failure reason; the rollout is held (Pause) or
	// the canary nodes are put back on the current revision (Abort).
	ReasonCanaryFailed = "CanaryFailed"
	// ReasonCanaryNoNodes: a canary is configured but no eligible node matches it; nothing is updated.
	ReasonCanaryNoNodes = "CanaryNoNodes"
	// ReasonProgressDeadlineExceeded: the rollout made no progress for progressDeadlineSeconds.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
)

// Labels and annotations.
const (
	// ControllerRevisionHashLabel is on every pod and ControllerRevision of a set: the revision's hash. It is the
	// same key as apps/v1's, so tools that read it for DaemonSets read it for NodeAgentSets.
	ControllerRevisionHashLabel = "controller-revision-hash"
	// ChangeCauseAnnotation is copied from the set onto the ControllerRevision it produced, for rollout history.
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
	// RestartedAtAnnotation, set on the pod template by `kubectl nas rollout restart`, forces a new revision.
	RestartedAtAnnotation = "nodeagentset.io/restartedAt"
	// PromoteRevisionAnnotation, set on the set by `kubectl nas rollout promote`, promotes a canary that waits for a
	// manual promotion (or overrides a paused canary failure) when it names status.updateRevision.
	PromoteRevisionAnnotation = "apps.nodeagentset.io/promote-revision"
	// ClusterAutoscalerDaemonSetPodAnnotation is on every pod, so cluster-autoscaler treats the pods as DaemonSet
	// pods (they do not block a scale-down and are counted in node templates).
	ClusterAutoscalerDaemonSetPodAnnotation = "cluster-autoscaler.kubernetes.io/daemonset-pod"
	// NodeOverrideAnnotation is on every pod that a spec.nodeOverrides entry applies to: the entry's name. With the
	// revision hash it says exactly which spec the pod runs, so a node whose labels now pick another override is
	// seen without comparing pod specs.
	NodeOverrideAnnotation = "apps.nodeagentset.io/node-override"
	// MigratedFromAnnotation is set by `kubectl nas migrate` on the NodeAgentSet it builds from a DaemonSet (the
	// DaemonSet's UID) and by `kubectl nas convert` (the DaemonSet's name). `kubectl nas migrate` reuses a set of
	// the DaemonSet's name only when it carries one of the two.
	MigratedFromAnnotation = "apps.nodeagentset.io/migrated-from-daemonset"
	// InPlaceUpdateStateAnnotation is put on a pod whose images the controller patched in place: for each changed
	// container, what its status said before the patch (image, imageID, containerID, restartCount). The pod counts
	// as unavailable until the kubelet reports every such container started again on the new image.
	InPlaceUpdateStateAnnotation = "apps.nodeagentset.io/in-place-update-state"
)

// Defaults, as for an apps/v1 DaemonSet.
const (
	DefaultRevisionHistoryLimit int32 = 10
)

// DefaultProgressDeadline is the progress deadline of a set that does not set one: 600 seconds, like a Deployment's,
// or minReadySeconds plus 600 when minReadySeconds is 600 or more, so that the default is always valid (greater than
// minReadySeconds) and leaves a pod time to become available.
func DefaultProgressDeadline(minReadySeconds int32) int32 {
	if minReadySeconds >= DefaultProgressDeadlineSeconds {
		return minReadySeconds + DefaultProgressDeadlineSeconds
	}
	return DefaultProgressDeadlineSeconds
}

package planner

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Snapshot is everything one planning pass may look at. The planner never modifies it.
type Snapshot struct {
	// Set is the NodeAgentSet being planned, as read from the cache.
	Set *v1alpha1.NodeAgentSet
	// Nodes are all nodes known to the cache.
	Nodes []*corev1.Node
	// Pods are the pods the set owns after adoption and release, in any phase, terminating ones included.
	Pods []*corev1.Pod
	// DaemonSetPods match the set's selector but are controlled by a DaemonSet: a DaemonSet being migrated to this
	// set (`kubectl nas migrate`), whose pods the set adopts once the DaemonSet is deleted with orphaning. A node
	// that runs one gets no pod from the set meanwhile, so no node runs two agents; those nodes count as desired
	// and not yet scheduled.
	DaemonSetPods []*corev1.Pod
	// Revisions are the set's ControllerRevisions, the update revision among them.
	Revisions []*appsv1.ControllerRevision
	// UpdateRevision is the ControllerRevision of the set's current template.
	UpdateRevision *appsv1.ControllerRevision
	// Now is the time the planner judges availability (minReadySeconds) and backoff against.
	Now time.Time
	// Backoff says, per node, until when a failed pod on that node must not be replaced.
	Backoff BackoffView
	// ExpectationsSatisfied is false while creates or deletes the controller issued are not yet in the cache: the plan
	// then contains no creates or deletes (a stale cache must not produce a second pod on a node), only status, and
	// observedGeneration is not advanced.
	ExpectationsSatisfied bool
	// CreateFailure is the error message of the last refused pod create for this set, empty when the last creates
	// went through. It surfaces as a Stalled condition, and is read back from there (StoredCreateFailure) on the
	// next pass, so it survives a restart.
	CreateFailure string
}

// BackoffView answers whether a node's failed-pod backoff is still running.
type BackoffView interface {
	// InBackoff reports whether a failed pod on node may not be replaced yet at now, and if so how long remains.
	InBackoff(node string, now time.Time) (bool, time.Duration)
}

// NoBackoff is a BackoffView in which no node is ever backing off.
type NoBackoff struct{}

// InBackoff always reports false.
func (NoBackoff) InBackoff(string, time.Time) (bool, time.Duration) { return false, 0 }

// Plan is what the reconciler carries out for one snapshot.
type Plan struct {
	// Creates are the nodes that get a new pod, sorted by node name: of the update revision, or, while a canary
	// holds the update revision to the canary nodes, of the revision the other nodes run (PodCreation.Revision).
	Creates []PodCreation
	// Deletes are the pods to delete, sorted by namespace and name. A pod appears at most once.
	Deletes []PodDeletion
	// Updates are live pods changed in place instead of replaced (moved to another revision by relabelling, or with
	// new container images), sorted by namespace and name. A pod appears at most once, and never also in Deletes.
	Updates []PodUpdate
	// BackoffNext are the nodes whose failed-pod backoff advances because their failed pod is deleted now, sorted.
	BackoffNext []string
	// Status is the set's status rebuilt from the snapshot. Its conditions are only the ones this controller owns
	// (see v1alpha1.Condition*), each with LastTransitionTime set to Snapshot.Now; the reconciler merges them into
	// the stored conditions so transition times survive and conditions written by others stay.
	Status v1alpha1.NodeAgentSetStatus
	// RequeueAfter is how soon the plan may change with no event arriving (a pod reaching minReadySeconds, a
	// backoff ending); zero when nothing is pending.
	RequeueAfter time.Duration
}

// PodCreation asks for a pod on a node.
type PodCreation struct {
	NodeName string
	Reason   CreateReason
	// Revision is the ControllerRevision the new pod runs; nil means Snapshot.UpdateRevision.
	Revision *appsv1.ControllerRevision
	// NodeOverride names the revision's spec.nodeOverrides entry that applies to the node; empty for none.
	NodeOverride string
}

// PodUpdate changes one live pod in place: its controller-revision-hash label moves to Revision, and each container
// named in Images gets that image. With no images it is a relabel: the pod's effective spec is the same under
// Revision, so nothing restarts. With images the kubelet restarts the changed containers, and the pod counts as
// unavailable until it is ready again on the new images.
type PodUpdate struct {
	Pod *corev1.Pod
	// Revision is the ControllerRevision the pod moves to.
	Revision *appsv1.ControllerRevision
	// Images maps a container name (init or regular container) to its new image; empty for a relabel.
	Images map[string]string
	// Labels and Annotations are, for an in-place image update, how the template's labels and annotations changed
	// from the pod's revision to Revision. Keys neither template names are not the controller's to touch.
	Labels, Annotations MetadataChange
	// NodeOverride names the spec.nodeOverrides entry of Revision that applies to the pod's node ("" for none); it
	// is written to the pod's NodeOverrideAnnotation with the new hash.
	NodeOverride string
	Reason       UpdateReason
	Message      string
}

// MetadataChange is how a template's labels or annotations changed from one revision to another.
type MetadataChange struct {
	// Set are the keys added or given another value, with the new value.
	Set map[string]string
	// Remove are the keys dropped, with the value they had: a pod whose value someone changed since keeps it.
	Remove map[string]string
}

// UpdateReason says why a pod is changed in place.
type UpdateReason string

// PodDeletion asks for one pod to be deleted.
type PodDeletion struct {
	Pod     *corev1.Pod
	Reason  DeleteReason
	Message string
}

// CreateReason says why a node gets a new pod.
type CreateReason string

// DeleteReason says why a pod goes.
type DeleteReason string

const (
	// CreateMissing: the node should run the set's pod and runs none.
	CreateMissing CreateReason = "NodeWithoutPod"
	// CreateSurge: a rolling update with maxSurge starts the new pod beside the old one.
	CreateSurge CreateReason = "Surge"
)

const (
	// UpdateRelabel: the pod's effective spec is the same under the target revision; only its revision label moves.
	UpdateRelabel UpdateReason = "Relabel"
	// UpdateInPlace: the pod differs from the target revision only in container images, which are patched.
	UpdateInPlace UpdateReason = "InPlaceUpdate"
)

const (
	// DeleteFailed: the pod's phase is Failed; it is replaced after the node's backoff.
	DeleteFailed DeleteReason = "PodFailed"
	// DeleteSucceeded: the pod's phase is Succeeded, which a node agent should never reach; it is replaced.
	DeleteSucceeded DeleteReason = "PodSucceeded"
	// DeleteDuplicate: more than one pod runs on the node; all but the oldest go (or, with surge, all but the oldest
	// of each revision).
	DeleteDuplicate DeleteReason = "DuplicatePod"
	// DeleteIneligible: the node no longer matches the set's selector, affinity or tolerations.
	DeleteIneligible DeleteReason = "NodeIneligible"
	// DeleteNodeGone: the pod targets a node that no longer exists.
	DeleteNodeGone DeleteReason = "NodeGone"
	// DeleteRollingUpdate: the pod is of an old revision and the rolling update replaces it.
	DeleteRollingUpdate DeleteReason = "RollingUpdate"
	// DeleteSurgeReplaced: with surge, the new pod beside it has become available.
	DeleteSurgeReplaced DeleteReason = "SurgeReplaced"
	// DeleteCanaryAborted: the canary failed with onFailure Abort; the canary node goes back to the stable revision.
	DeleteCanaryAborted DeleteReason = "CanaryAborted"
)

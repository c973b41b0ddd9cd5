package controller

import (
	"context"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// ownerIndex is the field index of revisions by controlling set UID: a reconcile finds its revisions without
// scanning the cluster's. Pods have informer indexes instead (cacheIndexers), maintained on every pod event, so there
// are as few of them as the reconcile needs. Tests that build a reconciler on a fake client index pods by ownerIndex.
const (
	ownerIndex     = "nodeagentset.io/controller-uid"
	defaultWorkers = 2
	controllerName = "nodeagentset"
	setKind        = "NodeAgentSet"
)

// CacheOptions are the manager cache settings the reconciler expects. Pods keep only the status subresource's
// managedFields entry, without its field set: its time is the API server's record of the latest status write, which
// caps a Ready transition time stamped by a kubelet whose clock runs ahead (placement.ReadySince). Every other
// managedFields entry, and the field sets, are dropped from every cached object: the controller never reads them,
// and at thousands of pods they are most of the memory. Nodes are kept without their status (trimNode).
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: trimManagedFields,
		ByObject:         map[client.Object]cache.ByObject{&corev1.Node{}: {Transform: trimNode}},
	}
}

// trimManagedFields is the cache transform of CacheOptions.
func trimManagedFields(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil || obj.GetManagedFields() == nil {
		// Objects without managedFields are left untouched, as controller-runtime's own stripping transform does.
		return in, nil
	}
	if _, isPod := in.(*corev1.Pod); !isPod {
		obj.SetManagedFields(nil)
		return in, nil
	}
	var latest *metav1.ManagedFieldsEntry
	for _, e := range obj.GetManagedFields() {
		if e.Subresource == "status" && e.Time != nil && (latest == nil || e.Time.After(latest.Time.Time)) {
			latest = &metav1.ManagedFieldsEntry{Manager: e.Manager, Operation: e.Operation, Subresource: e.Subresource, Time: e.Time}
		}
	}
	if latest == nil {
		obj.SetManagedFields(nil)
	} else {
		obj.SetManagedFields([]metav1.ManagedFieldsEntry{*latest})
	}
	return in, nil
}

// trimNode keeps what placement reads of a node (its name, labels and taints: everything node affinity and
// taint checks look at) and drops the rest of what a kubelet reports: the status (conditions, images, volumes,
// capacity, addresses) is most of a node's size and of no use to the controller, which, like upstream, leaves
// readiness and resources to the scheduler.
func trimNode(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	node.ManagedFields = nil
	node.Status = corev1.NodeStatus{}
	return node, nil
}

// controllerUID returns the UID of obj's controlling NodeAgentSet, if it has one.
func controllerUID(obj client.Object) (types.UID, bool) {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != setKind || ref.APIVersion != v1alpha1.GroupVersion.String() {
		return "", false
	}
	return ref.UID, true
}

func indexByController(obj client.Object) []string {
	if uid, ok := controllerUID(obj); ok {
		return []string{string(uid)}
	}
	return nil
}

// SetupWithManager registers the indexes, the watches and the reconciler with mgr.
func (r *NodeAgentSetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	if r.pods == nil {
		writer, err := newClientsetPodWriter(mgr.GetConfig(), mgr.GetHTTPClient(), r.clock)
		if err != nil {
			return err
		}
		r.pods, r.writeRate = writer, writer.rate
	}
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &appsv1.ControllerRevision{}, ownerIndex, indexByController); err != nil {
		return err
	}
	indexers, err := indexersFrom(ctx, mgr)
	if err != nil {
		return err
	}
	r.indexers = indexers
	return ctrl.NewControllerManagedBy(mgr).
		Named(controllerName).
		For(&v1alpha1.NodeAgentSet{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		// A revision deleted or edited by hand is put back (or its loss noticed) without waiting for other events.
		Owns(&appsv1.ControllerRevision{}).
		Watches(&corev1.Pod{}, &podEventHandler{r: r}).
		Watches(&corev1.Node{}, &nodeEventHandler{r: r}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.workers}).
		Complete(r)
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func enqueue(q queue, namespace, name string) {
	q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}})
}

// setForPod finds the NodeAgentSet that controls pod in the cache. The set is shared with the cache: read only.
func (r *NodeAgentSetReconciler) setForPod(ctx context.Context, pod *corev1.Pod) *v1alpha1.NodeAgentSet {
	uid, ok := controllerUID(pod)
	if !ok {
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	// Callers only read the set (its name, UID, minReadySeconds, Progressing condition), so the cached set itself does
	// (this runs for every pod event).
	var set *v1alpha1.NodeAgentSet
	if r.indexers.sets != nil {
		obj, exists, err := r.indexers.sets.GetByKey(pod.Namespace + "/" + ref.Name)
		if err != nil || !exists {
			return nil
		}
		if set, ok = obj.(*v1alpha1.NodeAgentSet); !ok {
			return nil
		}
	} else {
		set = &v1alpha1.NodeAgentSet{}
		if err := r.client.Get(ctx, types.NamespacedName{Namespace: pod.Namespace, Name: ref.Name}, set,
			client.UnsafeDisableDeepCopy); err != nil {
			return nil
		}
	}
	if set.UID != uid {
		return nil
	}
	return set
}

// enqueueSetsSelecting queues every set in pod's namespace whose selector matches pod: an orphan may be adopted.
func (r *NodeAgentSetReconciler) enqueueSetsSelecting(ctx context.Context, pod *corev1.Pod, q queue) {
	var sets v1alpha1.NodeAgentSetList
	if err := r.client.List(ctx, &sets, client.InNamespace(pod.Namespace)); err != nil {
		return
	}
	for i := range sets.Items {
		sel, err := metav1.LabelSelectorAsSelector(sets.Items[i].Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			enqueue(q, sets.Items[i].Namespace, sets.Items[i].Name)
		}
	}
}

// podEventHandler lowers expectations as the controller's own writes show up, and queues the sets a pod change
// affects: its owner (paced, see defaultPassSpacing), or for an orphan every set that may adopt it.
type podEventHandler struct{ r *NodeAgentSetReconciler }

var _ handler.EventHandler = &podEventHandler{}

func (h *podEventHandler) Create(ctx context.Context, e event.CreateEvent, q queue) {
	pod, ok := e.Object.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating: both its creation and its deletion are observed now.
		if set := h.r.setForPod(ctx, pod); set != nil {
			if node, err := placement.TargetNodeName(pod); err == nil {
				h.r.expectations.CreateObserved(client.ObjectKeyFromObject(set), node)
			}
		}
		h.Delete(ctx, event.DeleteEvent{Object: pod}, q)
		return
	}
	if set := h.r.setForPod(ctx, pod); set != nil {
		if node, err := placement.TargetNodeName(pod); err == nil {
			h.r.expectations.CreateObserved(client.ObjectKeyFromObject(set), node)
		}
		h.r.enqueuePaced(q, set.Namespace, set.Name)
		return
	}
	if metav1.GetControllerOfNoCopy(pod) == nil {
		h.r.enqueueSetsSelecting(ctx, pod, q)
	}
}

func (h *podEventHandler) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	oldPod, ok1 := e.ObjectOld.(*corev1.Pod)
	newPod, ok2 := e.ObjectNew.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.ResourceVersion == newPod.ResourceVersion {
		return
	}
	if newPod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
		// A graceful delete shows up as an update first; that is when the controller's delete is observed.
		if set := h.r.setForPod(ctx, newPod); set != nil {
			h.r.expectations.DeleteObserved(client.ObjectKeyFromObject(set), newPod.UID)
		}
	}
	if mark := podRevisionMark(newPod); mark != podRevisionMark(oldPod) {
		// An in-place update or relabel the controller issued shows up as the new revision label (or node-override
		// annotation).
		if set := h.r.setForPod(ctx, newPod); set != nil {
			h.r.expectations.UpdateObserved(client.ObjectKeyFromObject(set), newPod.UID, mark)
		}
	}
	oldUID, oldOwned := controllerUID(oldPod)
	newUID, newOwned := controllerUID(newPod)
	if oldOwned && (!newOwned || oldUID != newUID) {
		if ref := metav1.GetControllerOfNoCopy(oldPod); ref != nil {
			h.r.enqueuePaced(q, oldPod.Namespace, ref.Name)
		}
	}
	if newOwned {
		// As upstream resolves a pod's controller: a pod whose set is gone (the garbage collector is removing it)
		// queues nothing.
		if set := h.r.setForPod(ctx, newPod); set != nil {
			if rollingOut(set) && set.Spec.MinReadySeconds == 0 && turnedReady(oldPod, newPod) &&
				h.r.expectations.Satisfied(client.ObjectKeyFromObject(set)) {
				// It no longer counts against maxUnavailable: the next old pod may go.
				h.r.enqueueForFreedSlot(q, set.Namespace, set.Name)
			} else {
				h.r.enqueuePaced(q, set.Namespace, set.Name)
			}
		}
		return
	}
	// An orphan may be adopted: one whose labels changed, or one its controller let go of (a DaemonSet deleted with
	// orphaning during a migration).
	if metav1.GetControllerOfNoCopy(newPod) == nil &&
		(!equality.Semantic.DeepEqual(oldPod.Labels, newPod.Labels) || metav1.GetControllerOfNoCopy(oldPod) != nil) {
		h.r.enqueueSetsSelecting(ctx, newPod, q)
	}
}

func (h *podEventHandler) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	pod, ok := e.Object.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if isDaemonSetPod(pod) {
		// The node it held is free for a set that selects the pod.
		h.r.enqueueSetsSelecting(ctx, pod, q)
		return
	}
	if _, owned := controllerUID(pod); !owned || ref == nil {
		return
	}
	key := types.NamespacedName{Namespace: pod.Namespace, Name: ref.Name}
	h.r.expectations.PodGone(key, pod.UID)
	switch {
	case h.r.setForPod(ctx, pod) == nil:
	case h.r.expectations.Satisfied(key):
		// The node the pod held is free and nothing the set wrote is still on its way: the pass may replace it.
		h.r.enqueueForFreedSlot(q, key.Namespace, key.Name)
	default:
		h.r.enqueuePaced(q, key.Namespace, key.Name)
	}
}

func (h *podEventHandler) Generic(context.Context, event.GenericEvent, queue) {}

// isDaemonSetPod: an apps/v1 DaemonSet controls the pod.
func isDaemonSetPod(pod *corev1.Pod) bool {
	ref := metav1.GetControllerOfNoCopy(pod)
	return ref != nil && ref.Kind == "DaemonSet" && strings.HasPrefix(ref.APIVersion, "apps/")
}

// nodeEventHandler queues only the sets a node change can affect: those that should (or should no longer) run on
// the node, and on removal those with pods on it.
type nodeEventHandler struct{ r *NodeAgentSetReconciler }

var _ handler.EventHandler = &nodeEventHandler{}

func (h *nodeEventHandler) forEachSet(ctx context.Context, fn func(*v1alpha1.NodeAgentSet)) {
	var sets v1alpha1.NodeAgentSetList
	if err := h.r.client.List(ctx, &sets); err != nil {
		return
	}
	for i := range sets.Items {
		fn(&sets.Items[i])
	}
}

func (h *nodeEventHandler) Create(ctx context.Context, e event.CreateEvent, q queue) {
	node, ok := e.Object.(*corev1.Node)
	if !ok {
		return
	}
	h.forEachSet(ctx, func(set *v1alpha1.NodeAgentSet) {
		if shouldRun, _ := placement.NodeShouldRunPod(node, set); shouldRun {
			enqueue(q, set.Namespace, set.Name)
		}
	})
}

// schedulingFieldsEqual reports whether two versions of a node look the same to placement: heartbeats and other
// status churn, the bulk of node updates, are ignored.
func schedulingFieldsEqual(a, b *corev1.Node) bool {
	return equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.Spec.Taints, b.Spec.Taints) &&
		a.Spec.Unschedulable == b.Spec.Unschedulable
}

func (h *nodeEventHandler) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	oldNode, ok1 := e.ObjectOld.(*corev1.Node)
	newNode, ok2 := e.ObjectNew.(*corev1.Node)
	if !ok1 || !ok2 || schedulingFieldsEqual(oldNode, newNode) {
		return
	}
	h.forEachSet(ctx, func(set *v1alpha1.NodeAgentSet) {
		oldRun, oldContinue := placement.NodeShouldRunPod(oldNode, set)
		newRun, newContinue := placement.NodeShouldRunPod(newNode, set)
		if oldRun != newRun || oldContinue != newContinue {
			enqueue(q, set.Namespace, set.Name)
			return
		}
		// A node moved to another node class: its pod may have to be replaced with another override.
		if len(set.Spec.NodeOverrides) > 0 {
			overrides := placement.NewOverrideMatcher(set.Spec.NodeOverrides)
			if placement.OverrideName(overrides.For(oldNode)) != placement.OverrideName(overrides.For(newNode)) {
				enqueue(q, set.Namespace, set.Name)
			}
		}
	})
}

func (h *nodeEventHandler) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	if _, ok := e.Object.(*corev1.Node); !ok {
		return
	}
	// Every set passes: those that counted the node as eligible recount it even if their pod never made it there (a
	// refused create, a failed pod in backoff), and a set whose pod is still bound to the node deletes it (see
	// docs/placement-and-rollouts.md). Node removals are rare, so a pass of each set costs less than indexing every
	// pod by node on every pod event to find the few sets concerned.
	h.forEachSet(ctx, func(set *v1alpha1.NodeAgentSet) { enqueue(q, set.Namespace, set.Name) })
}

func (h *nodeEventHandler) Generic(context.Context, event.GenericEvent, queue) {}

// turnedReady: the pod became ready with this update (for a pod updated in place, ready on its new images).
func turnedReady(oldPod, newPod *corev1.Pod) bool {
	_, was := placement.ReadySince(oldPod)
	_, is := placement.ReadySince(newPod)
	return !was && is
}

// rollingOut: the set's stored Progressing condition says a rolling update (or its canary) is replacing old pods,
// so a pod turning ready may let the next one go. Not while the rollout is complete, paused, OnDelete, or held by a
// canary waiting for promotion or failed, when a pass sooner could not replace anything; nor past its progress
// deadline, where pods are stuck and paced passes serve. The condition is written as soon as its reason changes
// (writeStatus); it decides how soon a pass comes, never what it does.
func rollingOut(set *v1alpha1.NodeAgentSet) bool {
	c := meta.FindStatusCondition(set.Status.Conditions, v1alpha1.ConditionProgressing)
	return c != nil && (c.Reason == v1alpha1.ReasonRollingUpdate || c.Reason == v1alpha1.ReasonCanaryRunning)
}

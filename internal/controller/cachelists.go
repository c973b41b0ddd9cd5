package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// podOwnerUIDIndex indexes the pod informer by controlling NodeAgentSet UID (UIDs are unique cluster-wide, so the
// key needs no namespace); podOrphanIndex indexes pods without any controller by namespace. A set can only own its
// pods and adopt orphans (a pod controlled by anyone else is never touched), so these two are all a pass needs to
// look at: with many sets in a namespace, a pass no longer walks every other set's pods.
const (
	podOwnerUIDIndex = "nodeagentset.io/owner-uid"
	podOrphanIndex   = "nodeagentset.io/orphans-by-namespace"
	// podDaemonSetIndex indexes pods an apps/v1 DaemonSet controls by namespace: a set leaves the nodes of those its
	// selector matches alone while a migration from that DaemonSet is under way (planner.Snapshot.DaemonSetPods).
	podDaemonSetIndex = "nodeagentset.io/daemonset-pods-by-namespace"
)

// cacheIndexers are the pod and node informers' own stores. A reconcile reads the set's pods and the nodes from
// them as pointers to the cached objects, as upstream's listers do: a cache List would allocate an array of every
// object (a PodList's items are values) on each pass, which at thousands of nodes was most of what the controller
// allocated (docs/benchmarks.md). Nil fields (a reconciler built without a manager, in tests) fall back to the client.
type cacheIndexers struct {
	pods  toolscache.Indexer
	nodes toolscache.Indexer
	// sets is the NodeAgentSet informer's store: the pod event handlers resolve a pod's set in it without copying the
	// set (setForPod runs for every pod event).
	sets toolscache.Indexer
}

// indexersFrom registers the owner index on mgr's pod informer and returns the pod, node and set informers' stores; it must run
// before the manager starts. An informer that is not a client-go SharedIndexInformer leaves its field nil.
func indexersFrom(ctx context.Context, mgr ctrl.Manager) (cacheIndexers, error) {
	var out cacheIndexers
	podInformer, err := mgr.GetCache().GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		return out, err
	}
	nodeInformer, err := mgr.GetCache().GetInformer(ctx, &corev1.Node{})
	if err != nil {
		return out, err
	}
	if sii, ok := podInformer.(toolscache.SharedIndexInformer); ok {
		if err := sii.AddIndexers(toolscache.Indexers{podOwnerUIDIndex: func(obj any) ([]string, error) {
			if o, ok := obj.(client.Object); ok {
				if uid, ok := controllerUID(o); ok {
					return []string{string(uid)}, nil
				}
			}
			return nil, nil
		}, podOrphanIndex: func(obj any) ([]string, error) {
			if o, ok := obj.(client.Object); ok && metav1.GetControllerOfNoCopy(o) == nil {
				return []string{o.GetNamespace()}, nil
			}
			return nil, nil
		}, podDaemonSetIndex: func(obj any) ([]string, error) {
			if p, ok := obj.(*corev1.Pod); ok && isDaemonSetPod(p) {
				return []string{p.Namespace}, nil
			}
			return nil, nil
		}}); err != nil {
			return out, err
		}
		out.pods = sii.GetIndexer()
	}
	if sii, ok := nodeInformer.(toolscache.SharedIndexInformer); ok {
		out.nodes = sii.GetIndexer()
	}
	setInformer, err := mgr.GetCache().GetInformer(ctx, &v1alpha1.NodeAgentSet{})
	if err != nil {
		return out, err
	}
	if sii, ok := setInformer.(toolscache.SharedIndexInformer); ok {
		out.sets = sii.GetIndexer()
	}
	return out, nil
}

// listNodes returns every node, sorted by name. The nodes are shared with the cache: read only.
func (r *NodeAgentSetReconciler) listNodes(ctx context.Context) ([]*corev1.Node, error) {
	var nodes []*corev1.Node
	if r.indexers.nodes != nil {
		for _, obj := range r.indexers.nodes.List() {
			if n, ok := obj.(*corev1.Node); ok {
				nodes = append(nodes, n)
			}
		}
	} else {
		var list corev1.NodeList
		if err := r.client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		for i := range list.Items {
			nodes = append(nodes, &list.Items[i])
		}
	}
	return r.nodeOrder.sorted(nodes), nil
}

// setPodCandidates returns the pods controlled by the set and the orphans in its namespace that its selector matches
// (from the client: every pod the selector matches, others' pods included, which claiming then leaves alone), and
// the pods its selector matches that a DaemonSet controls. The pods are shared with the cache: read only.
func (r *NodeAgentSetReconciler) setPodCandidates(ctx context.Context, namespace string, uid types.UID, selector labels.Selector) ([]*corev1.Pod, []*corev1.Pod, error) {
	if r.indexers.pods != nil {
		owned, err := r.ownedPods(ctx, namespace, uid)
		if err != nil {
			return nil, nil, err
		}
		orphans, err := r.indexers.pods.ByIndex(podOrphanIndex, namespace)
		if err != nil {
			return nil, nil, err
		}
		daemonSetPods, err := r.indexers.pods.ByIndex(podDaemonSetIndex, namespace)
		if err != nil {
			return nil, nil, err
		}
		var held []*corev1.Pod
		for _, obj := range daemonSetPods {
			if p, ok := obj.(*corev1.Pod); ok && selector.Matches(labels.Set(p.Labels)) {
				held = append(held, p)
			}
		}
		out := make([]*corev1.Pod, 0, len(owned))
		seen := make(map[types.UID]bool, len(owned))
		for _, p := range owned {
			out = append(out, p)
			seen[p.UID] = true
		}
		for _, obj := range orphans {
			if p, ok := obj.(*corev1.Pod); ok && !seen[p.UID] && selector.Matches(labels.Set(p.Labels)) {
				out = append(out, p)
			}
		}
		return out, held, nil
	}
	owned, err := r.ownedPods(ctx, namespace, uid)
	if err != nil {
		return nil, nil, err
	}
	var matching corev1.PodList
	if err := r.client.List(ctx, &matching, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: selector},
		client.UnsafeDisableDeepCopy); err != nil {
		return nil, nil, err
	}
	var held []*corev1.Pod
	for i := range matching.Items {
		if isDaemonSetPod(&matching.Items[i]) {
			held = append(held, &matching.Items[i])
		}
	}
	out := make([]*corev1.Pod, 0, len(owned)+len(matching.Items))
	seen := make(map[types.UID]bool, len(owned))
	for _, p := range owned {
		out = append(out, p)
		seen[p.UID] = true
	}
	for i := range matching.Items {
		if !seen[matching.Items[i].UID] {
			out = append(out, &matching.Items[i])
		}
	}
	return out, held, nil
}

// ownedPods returns the pods in namespace that the set with uid controls, from the owner index of the pod informer,
// or, for a reconciler built without a manager (tests), from the client's ownerIndex field index. The pods are shared
// with the cache: read only.
func (r *NodeAgentSetReconciler) ownedPods(ctx context.Context, namespace string, uid types.UID) ([]*corev1.Pod, error) {
	if r.indexers.pods != nil {
		objs, err := r.indexers.pods.ByIndex(podOwnerUIDIndex, string(uid))
		if err != nil {
			return nil, err
		}
		pods := make([]*corev1.Pod, 0, len(objs))
		for _, obj := range objs {
			if p, ok := obj.(*corev1.Pod); ok && p.Namespace == namespace {
				pods = append(pods, p)
			}
		}
		return pods, nil
	}
	var list corev1.PodList
	if err := r.client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{ownerIndex: string(uid)},
		client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		pods = append(pods, &list.Items[i])
	}
	return pods, nil
}

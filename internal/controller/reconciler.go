package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/planner"
)

// defaultBurstReplicas caps the pod creates and deletes of one reconcile, as upstream's burstReplicas: a set that
// appears on 5000 nodes is filled over several passes instead of one 5000-write burst.
const defaultBurstReplicas = 250

// Options tune a NodeAgentSetReconciler.
type Options struct {
	// Clock is the time source; nil means the real clock. Tests inject a fake one.
	Clock clock.WithTicker
	// BurstReplicas caps pod creates and deletes per reconcile; 0 means 250.
	BurstReplicas int
	// Workers is how many sets are reconciled in parallel; 0 means 2 (as kube-controller-manager's
	// --concurrent-daemonset-syncs).
	Workers int
	// PodWriter replaces the client for pod creates, patches and deletes; nil means a typed core/v1 client on the
	// manager's configuration and connections (clientsetPodWriter).
	PodWriter PodWriter
	// PassSpacing is the least time between two passes of a set that pod events queue (see defaultPassSpacing);
	// 0 means 250ms, a negative value queues every pod event's pass at once.
	PassSpacing time.Duration
	// StatusSpacing is the least time between two status writes of a set that change only its counts (see
	// defaultStatusSpacing); 0 means 1s, a negative value writes every change at once.
	StatusSpacing time.Duration
}

// NodeAgentSetReconciler reconciles NodeAgentSets: one pod per eligible node, rolled out by revision.
type NodeAgentSetReconciler struct {
	client        client.Client
	apiReader     client.Reader
	recorder      recorder.EventRecorder
	clock         clock.WithTicker
	pods          PodWriter
	burstReplicas int
	workers       int

	expectations *expectations
	backoff      *failedPodBackoff
	pacer        *spacer
	// statusSpacer spaces the status writes that only move counts (writeStatus).
	statusSpacer *spacer
	// writeRate watches the pod writer's client rate limiter (enqueueForFreedSlot); nil when there is none to
	// watch (an injected PodWriter, no client rate limit).
	writeRate *watchedRateLimiter
	// indexers are the informers' stores the reconcile reads pods and nodes from (set in SetupWithManager).
	indexers cacheIndexers
	// nodeOrder puts each pass's nodes in name order.
	nodeOrder nodeOrder
}

// NewNodeAgentSetReconciler builds a reconciler that reads from mgr's cache and writes through mgr's client.
func NewNodeAgentSetReconciler(mgr ctrl.Manager, opts Options) *NodeAgentSetReconciler {
	c := opts.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	burst := opts.BurstReplicas
	if burst <= 0 {
		burst = defaultBurstReplicas
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = defaultWorkers
	}
	spacing := opts.PassSpacing
	if spacing == 0 {
		spacing = defaultPassSpacing
	}
	statusSpacing := opts.StatusSpacing
	if statusSpacing == 0 {
		statusSpacing = defaultStatusSpacing
	}
	return &NodeAgentSetReconciler{
		client:        mgr.GetClient(),
		apiReader:     mgr.GetAPIReader(),
		recorder:      newBudgetedRecorder(mgr.GetEventRecorder(controllerName+"-controller"), c),
		clock:         c,
		pods:          opts.PodWriter,
		burstReplicas: burst,
		workers:       workers,
		expectations:  newExpectations(c),
		backoff:       newFailedPodBackoff(c),
		pacer:         newSpacer(c, spacing),
		statusSpacer:  newSpacer(c, statusSpacing),
	}
}

// +kubebuilder:rbac:groups=apps.nodeagentset.io,resources=nodeagentsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps.nodeagentset.io,resources=nodeagentsets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps.nodeagentset.io,resources=nodeagentsets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete;patch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one NodeAgentSet's pods, revisions and status in line with its spec and the cluster's nodes.
func (r *NodeAgentSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	r.pacer.mark(req.NamespacedName)
	set := &v1alpha1.NodeAgentSet{}
	if err := r.client.Get(ctx, req.NamespacedName, set); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if set.DeletionTimestamp != nil {
		// The garbage collector removes the pods and revisions; nothing is created for a set on its way out.
		return ctrl.Result{}, nil
	}
	// Expectations are read before anything is listed: a write observed between the lists and this check would
	// otherwise count as seen while the lists still miss it, and a stale list could plan a second pod for a node.
	key := req.NamespacedName
	satisfied := r.expectations.Satisfied(key)

	if problem := planner.InvalidSelector(set); problem != "" {
		// The webhook and the CRD schema keep such sets out; one that slipped in is reported Stalled and its pods
		// are left alone rather than an empty selector made to claim every pod in the namespace.
		log.Info("set has an unusable selector; no pod is created or deleted", "problem", problem)
		due, err := r.reportInvalidSelector(ctx, set, satisfied)
		return ctrl.Result{RequeueAfter: due}, err
	}
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return ctrl.Result{}, err
	}

	// The cache's own node objects, not copies (as upstream's listers): the planner and placement only read them.
	// Copying every node on every pass was the largest cost of a reconcile (see docs/benchmarks.md).
	nodes, err := r.listNodes(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	pods, held, err := r.claimPods(ctx, set, selector)
	if err != nil {
		return ctrl.Result{}, err
	}
	revs, err := r.claimRevisions(ctx, set, selector)
	if err != nil {
		return ctrl.Result{}, err
	}
	update, collided, err := r.ensureUpdateRevision(ctx, set, selector, revs)
	if err != nil {
		return ctrl.Result{}, err
	}
	if collided {
		// collisionCount went up; the next pass hashes to a fresh name.
		return ctrl.Result{RequeueAfter: collisionRetry}, nil
	}
	revs = withRevision(revs, update)

	snap := r.snapshot(set, nodes, pods, held, revs, update, satisfied)
	plan := planner.Decide(snap)

	created, actErr := r.apply(ctx, set, update, plan)
	failure := snap.CreateFailure
	switch {
	case created.err != nil:
		failure = created.err.Error()
	case created.attempted > 0:
		failure = ""
	case satisfied && len(plan.Creates) == 0:
		// No node waits for a pod, so an earlier refused create no longer describes the set.
		failure = ""
	}
	if failure != snap.CreateFailure {
		// This pass's creates changed the answer; the status written now says so (the same snapshot, decided again).
		snap.CreateFailure = failure
		plan.Status = planner.Decide(snap).Status
	}

	statusDue, err := r.writeStatus(ctx, set, update, plan.Status, actErr == nil)
	if err != nil {
		if apierrors.IsConflict(err) && actErr == nil {
			// Someone else wrote the set; the next pass sees their change and writes a fresh status.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, errors.Join(actErr, err)
	}
	if satisfied {
		// Only on a pass that sees all its own writes: a revision whose new pods are not in the cache yet would
		// otherwise look unused and be pruned.
		if err := r.pruneRevisions(ctx, set, revs, update, pods); err != nil {
			log.Error(err, "pruning old revisions")
		}
	}
	if actErr != nil {
		return ctrl.Result{}, actErr
	}
	r.backoff.GC()
	return ctrl.Result{RequeueAfter: soonest(nextPass(plan, satisfied), statusDue)}, nil
}

// soonest is the earlier of two requeue delays, where 0 means none.
func soonest(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// Retry delays for passes that end early because the API server refused a write on a stale object.
const (
	collisionRetry = 100 * time.Millisecond
	conflictRetry  = 100 * time.Millisecond
)

// nextPass is when to look at the set again with no event arriving. A pass that wrote, or that waited for earlier
// writes, comes back within expectationsTimeout at the latest: the cache events it waits for normally queue it much
// sooner, and if one is lost (a watch gap) the expectations expire and the set is not wedged.
func nextPass(plan planner.Plan, satisfied bool) time.Duration {
	wrote := len(plan.Creates) > 0 || len(plan.Deletes) > 0 || len(plan.Updates) > 0
	if satisfied && !wrote {
		return plan.RequeueAfter
	}
	if plan.RequeueAfter > 0 && plan.RequeueAfter < expectationsTimeout {
		return plan.RequeueAfter
	}
	return expectationsTimeout
}

func (r *NodeAgentSetReconciler) forget(key types.NamespacedName) {
	r.expectations.Forget(key)
	r.pacer.forget(key)
	r.statusSpacer.forget(key)
	forgetMetrics(key)
}

// withRevision puts rev into revs in place of the cached copy of the same name (a renumbered or just created
// revision is newer than the cache).
func withRevision(revs []*appsv1.ControllerRevision, rev *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	out := make([]*appsv1.ControllerRevision, 0, len(revs)+1)
	for _, r := range revs {
		if r.Name != rev.Name {
			out = append(out, r)
		}
	}
	return append(out, rev)
}

// claimPods returns the set's pods after adopting matching orphans and releasing owned pods that stopped matching,
// and the matching pods a DaemonSet controls (see planner.Snapshot.DaemonSetPods).
//
// The pods returned are shared with the cache, as upstream's listers share theirs: nothing the reconciler and the
// planner do with them may change them. A pod that is written (adopted, released) is copied first, since the client
// decodes the server's answer into the object it is given.
func (r *NodeAgentSetReconciler) claimPods(ctx context.Context, set *v1alpha1.NodeAgentSet, selector labels.Selector) ([]*corev1.Pod, []*corev1.Pod, error) {
	candidates, held, err := r.setPodCandidates(ctx, set.Namespace, set.UID, selector)
	if err != nil {
		return nil, nil, err
	}
	c := claimObjects(set, selector, candidates)
	if len(c.adopt) > 0 {
		ok, err := r.stillLive(ctx, set)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			c.adopt = nil
		}
	}
	result := c.owned
	for _, shared := range c.adopt {
		pod := shared.DeepCopy()
		patch, err := adoptPatch(set, pod.UID)
		if err != nil {
			return nil, nil, err
		}
		if err := r.client.Patch(ctx, pod, patch); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, nil, fmt.Errorf("adopting pod %s: %w", pod.Name, err)
		}
		result = append(result, pod)
	}
	for _, shared := range c.release {
		pod := shared.DeepCopy()
		patch, err := releasePatch(set, pod.UID)
		if err != nil {
			return nil, nil, err
		}
		if err := r.client.Patch(ctx, pod, patch); err != nil && !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("releasing pod %s: %w", pod.Name, err)
		}
	}
	return result, held, nil
}

// stillLive re-reads the set from the API server: adopting on behalf of a set that is being deleted would hand the
// orphans to the garbage collector.
func (r *NodeAgentSetReconciler) stillLive(ctx context.Context, set *v1alpha1.NodeAgentSet) (bool, error) {
	fresh := &v1alpha1.NodeAgentSet{}
	if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(set), fresh); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return fresh.UID == set.UID && fresh.DeletionTimestamp == nil, nil
}

// reportInvalidSelector writes the status of a set whose selector cannot be used: counted from the pods and
// revisions it already owns (found by owner, not by selector; none is adopted or released), with Stalled=True
// InvalidSelector. The plan's writes are not applied; the planner makes none for such a set anyway. The delay is
// writeStatus's: when a held-back status write is due.
func (r *NodeAgentSetReconciler) reportInvalidSelector(ctx context.Context, set *v1alpha1.NodeAgentSet, satisfied bool) (time.Duration, error) {
	nodes, err := r.listNodes(ctx)
	if err != nil {
		return 0, err
	}
	pods, err := r.ownedPods(ctx, set.Namespace, set.UID)
	if err != nil {
		return 0, err
	}
	var ownedRevs appsv1.ControllerRevisionList
	if err := r.client.List(ctx, &ownedRevs, client.InNamespace(set.Namespace), client.MatchingFields{ownerIndex: string(set.UID)}); err != nil {
		return 0, err
	}
	var revs []*appsv1.ControllerRevision
	var update *appsv1.ControllerRevision
	for i := range ownedRevs.Items {
		revs = append(revs, &ownedRevs.Items[i])
		if ownedRevs.Items[i].Name == set.Status.UpdateRevision {
			update = &ownedRevs.Items[i]
		}
	}
	plan := planner.Decide(r.snapshot(set, nodes, pods, nil, revs, update, satisfied))
	return r.writeStatus(ctx, set, update, plan.Status, true)
}

// snapshot is the planner's input for one pass.
func (r *NodeAgentSetReconciler) snapshot(set *v1alpha1.NodeAgentSet, nodes []*corev1.Node, pods, daemonSetPods []*corev1.Pod,
	revs []*appsv1.ControllerRevision, update *appsv1.ControllerRevision, satisfied bool) planner.Snapshot {
	return planner.Snapshot{
		Set:                   set,
		Nodes:                 nodes,
		Pods:                  pods,
		DaemonSetPods:         daemonSetPods,
		Revisions:             revs,
		UpdateRevision:        update,
		Now:                   r.clock.Now(),
		Backoff:               r.backoff.viewFor(client.ObjectKeyFromObject(set)),
		ExpectationsSatisfied: satisfied,
		// Read back from the stored Stalled condition, not kept in memory: a new leader reports what the old one did.
		CreateFailure: planner.StoredCreateFailure(set.Status),
	}
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/planner"
)

// Event reasons, as the upstream DaemonSet controller emits them.
const (
	eventSuccessfulCreate = "SuccessfulCreate"
	eventFailedCreate     = "FailedCreate"
	eventSuccessfulDelete = "SuccessfulDelete"
	eventFailedDelete     = "FailedDelete"
	eventFailedDaemonPod  = "FailedDaemonPod"
)

// slowStartInitialBatch is the first create batch; each batch that fully succeeds doubles the next. A set whose
// pods are all refused (quota, admission) then costs one failed create per pass, not hundreds.
const slowStartInitialBatch = 1

// apply carries out a plan: creates in slow-start batches, then deletes, each capped at burstReplicas, with
// expectations raised before each write and lowered for writes that failed.
func (r *NodeAgentSetReconciler) apply(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, plan planner.Plan) error {
	key := client.ObjectKeyFromObject(set)
	now := r.clock.Now()
	for _, node := range plan.BackoffNext {
		r.backoff.Next(key, node, now)
	}

	creates := plan.Creates
	if len(creates) > r.burstReplicas {
		creates = creates[:r.burstReplicas]
	}
	createErr := r.createPods(ctx, set, update, creates)

	deletes := plan.Deletes
	if len(deletes) > r.burstReplicas {
		deletes = deletes[:r.burstReplicas]
	}
	deleteErr := r.deletePods(ctx, set, deletes)
	return errors.Join(createErr, deleteErr)
}

func (r *NodeAgentSetReconciler) createPods(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, creates []planner.PodCreation) error {
	if len(creates) == 0 {
		return nil
	}
	key := client.ObjectKeyFromObject(set)
	hash := update.Labels[v1alpha1.ControllerRevisionHashLabel]
	for _, c := range creates {
		r.expectations.ExpectCreate(key, c.NodeName)
	}
	var firstErr error
	batch := slowStartInitialBatch
	for start := 0; start < len(creates); start += batch {
		if start > 0 {
			batch *= 2
		}
		end := min(start+batch, len(creates))
		errs := r.createBatch(ctx, set, hash, creates[start:end])
		if len(errs) > 0 {
			firstErr = errs[0]
			// Nothing after a failing batch is attempted; those creates will not be observed either.
			for _, c := range creates[end:] {
				r.expectations.CreateObserved(key, c.NodeName)
			}
			break
		}
		if end == len(creates) {
			break
		}
	}
	if firstErr != nil {
		r.setCreateFailure(key, firstErr.Error())
		return fmt.Errorf("creating pods: %w", firstErr)
	}
	r.setCreateFailure(key, "")
	return nil
}

func (r *NodeAgentSetReconciler) createBatch(ctx context.Context, set *v1alpha1.NodeAgentSet, hash string, batch []planner.PodCreation) []error {
	key := client.ObjectKeyFromObject(set)
	return inParallel(batch, func(c planner.PodCreation) error {
		pod := placement.NewPod(set, c.NodeName, hash)
		err := r.pods.CreatePod(ctx, pod)
		switch {
		case err == nil:
			// The pod is the related object: the events API folds events that differ only in their note into one
			// series, so without it every create after the first would show the first pod's name.
			r.recorder.Eventf(set, pod, corev1.EventTypeNormal, eventSuccessfulCreate, "Create", "Created pod: %s", pod.Name)
			return nil
		case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			// The namespace is going away with the set; nothing to report.
		case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
			// The create may still land; keep the expectation and let the cache tell.
			return nil
		default:
			r.recorder.Eventf(set, nil, corev1.EventTypeWarning, eventFailedCreate, "Create",
				"Error creating pod for node %s: %v", c.NodeName, err)
		}
		r.expectations.CreateObserved(key, c.NodeName)
		return err
	})
}

func (r *NodeAgentSetReconciler) deletePods(ctx context.Context, set *v1alpha1.NodeAgentSet, deletes []planner.PodDeletion) error {
	key := client.ObjectKeyFromObject(set)
	log := logf.FromContext(ctx)
	for _, d := range deletes {
		r.expectations.ExpectDelete(key, d.Pod.UID)
	}
	errs := inParallel(deletes, func(d planner.PodDeletion) error {
		if d.Reason == planner.DeleteFailed {
			node, _ := placement.TargetNodeName(d.Pod)
			r.recorder.Eventf(set, d.Pod, corev1.EventTypeWarning, eventFailedDaemonPod, "Delete",
				"Found failed daemon pod %s/%s on node %s, will try to kill it", d.Pod.Namespace, d.Pod.Name, node)
		}
		err := r.pods.DeletePod(ctx, d.Pod)
		switch {
		case err == nil:
			log.V(1).Info("deleted pod", "pod", d.Pod.Name, "reason", d.Reason, "message", d.Message)
			r.recorder.Eventf(set, d.Pod, corev1.EventTypeNormal, eventSuccessfulDelete, "Delete", "Deleted pod: %s", d.Pod.Name)
			return nil
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			// Already gone (or replaced by another pod of that name): nothing to wait for.
			r.expectations.DeleteObserved(key, d.Pod.UID)
			return nil
		default:
			r.recorder.Eventf(set, d.Pod, corev1.EventTypeWarning, eventFailedDelete, "Delete",
				"Error deleting pod %s: %v", d.Pod.Name, err)
		}
		r.expectations.DeleteObserved(key, d.Pod.UID)
		return fmt.Errorf("deleting pod %s: %w", d.Pod.Name, err)
	})
	return errors.Join(errs...)
}

// inParallel runs write for every item at once, as upstream issues a batch's creates and deletes, and returns the
// errors it reported.
func inParallel[T any](items []T, write func(T) error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := write(item); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

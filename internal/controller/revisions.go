package controller

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// claimRevisions returns the set's ControllerRevisions, adopting matching orphans and releasing ones that stopped
// matching, like pods.
func (r *NodeAgentSetReconciler) claimRevisions(ctx context.Context, set *v1alpha1.NodeAgentSet, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	var owned appsv1.ControllerRevisionList
	if err := r.client.List(ctx, &owned, client.InNamespace(set.Namespace), client.MatchingFields{ownerIndex: string(set.UID)}); err != nil {
		return nil, err
	}
	var matching appsv1.ControllerRevisionList
	if err := r.client.List(ctx, &matching, client.InNamespace(set.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, err
	}
	seen := map[types.UID]bool{}
	var candidates []*appsv1.ControllerRevision
	for _, list := range [][]appsv1.ControllerRevision{owned.Items, matching.Items} {
		for i := range list {
			if !seen[list[i].UID] {
				seen[list[i].UID] = true
				candidates = append(candidates, &list[i])
			}
		}
	}
	c := claimObjects(set, selector, candidates)
	result := c.owned
	if len(c.adopt) > 0 {
		live, err := r.stillLive(ctx, set)
		if err != nil {
			return nil, err
		}
		for _, rev := range c.adopt {
			if !live {
				break
			}
			patch, err := adoptPatch(set, rev.UID)
			if err != nil {
				return nil, err
			}
			if err := r.client.Patch(ctx, rev, patch); err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return nil, fmt.Errorf("adopting revision %s: %w", rev.Name, err)
			}
			result = append(result, rev)
		}
	}
	for _, rev := range c.release {
		patch, err := releasePatch(set, rev.UID)
		if err != nil {
			return nil, err
		}
		if err := r.client.Patch(ctx, rev, patch); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("releasing revision %s: %w", rev.Name, err)
		}
	}
	return result, nil
}

// ensureUpdateRevision finds, renumbers or creates the revision of the set's current template. collided is true when
// the name was taken by a revision with other content: status.collisionCount was raised and the caller must requeue.
func (r *NodeAgentSetReconciler) ensureUpdateRevision(ctx context.Context, set *v1alpha1.NodeAgentSet, selector labels.Selector, revs []*appsv1.ControllerRevision) (update *appsv1.ControllerRevision, collided bool, err error) {
	decision, err := revision.Decide(set, revs)
	if err != nil {
		return nil, false, err
	}
	if decision.Action != revision.UseExisting {
		// A new number is about to be handed out: take it from the API server, not the cache, or a revision created
		// a moment ago and not cached yet would share its number with this one.
		live, err := r.liveRevisions(ctx, set, selector)
		if err != nil {
			return nil, false, err
		}
		if decision, err = revision.Decide(set, live); err != nil {
			return nil, false, err
		}
	}
	switch decision.Action {
	case revision.UseExisting:
		return decision.Existing, false, nil
	case revision.Renumber:
		// A rollback: the old template's revision becomes the newest, keeping numbers growing (1, 2, then 1 again
		// is revision 3), and takes the set's current change-cause.
		renumbered := decision.Existing.DeepCopy()
		renumbered.Revision = decision.Next
		if cause, ok := set.Annotations[v1alpha1.ChangeCauseAnnotation]; ok {
			if renumbered.Annotations == nil {
				renumbered.Annotations = map[string]string{}
			}
			renumbered.Annotations[v1alpha1.ChangeCauseAnnotation] = cause
		}
		if renumbered.Annotations == nil {
			renumbered.Annotations = map[string]string{}
		}
		// The rollout back to it starts now; its creation time is long past (see rolloutStart).
		renumbered.Annotations[updateRevisionSinceAnnotation] = r.clock.Now().UTC().Format(time.RFC3339)
		if err := r.client.Update(ctx, renumbered); err != nil {
			return nil, false, fmt.Errorf("renumbering revision %s: %w", renumbered.Name, err)
		}
		return renumbered, false, nil
	}

	desired := decision.Desired
	err = r.client.Create(ctx, desired)
	if err == nil {
		return desired, false, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, false, fmt.Errorf("creating revision %s: %w", desired.Name, err)
	}
	existing := &appsv1.ControllerRevision{}
	if err := r.apiReader.Get(ctx, client.ObjectKeyFromObject(desired), existing); err != nil {
		return nil, false, fmt.Errorf("reading revision %s: %w", desired.Name, err)
	}
	if uid, ok := controllerUID(existing); ok && uid == set.UID && revision.EqualData(existing, desired) {
		// Ours, only missing from the cache so far.
		return existing, false, nil
	}
	// Same name, different content or owner: a hash collision. Raise collisionCount so the next hash differs.
	next := set.DeepCopy()
	next.Status.CollisionCount = ptr.To(ptr.Deref(set.Status.CollisionCount, 0) + 1)
	if err := r.client.Status().Update(ctx, next); err != nil {
		return nil, false, fmt.Errorf("raising collisionCount: %w", err)
	}
	return nil, true, nil
}

// liveRevisions reads the set's revisions from the API server.
func (r *NodeAgentSetReconciler) liveRevisions(ctx context.Context, set *v1alpha1.NodeAgentSet, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	var list appsv1.ControllerRevisionList
	if err := r.apiReader.List(ctx, &list, client.InNamespace(set.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing revisions: %w", err)
	}
	var owned []*appsv1.ControllerRevision
	for i := range list.Items {
		if uid, ok := controllerUID(&list.Items[i]); ok && uid == set.UID {
			owned = append(owned, &list.Items[i])
		}
	}
	return owned, nil
}

// pruneRevisions deletes old revisions beyond revisionHistoryLimit that no live pod runs.
func (r *NodeAgentSetReconciler) pruneRevisions(ctx context.Context, set *v1alpha1.NodeAgentSet, revs []*appsv1.ControllerRevision, update *appsv1.ControllerRevision, pods []*corev1.Pod) error {
	limit := ptr.Deref(set.Spec.RevisionHistoryLimit, v1alpha1.DefaultRevisionHistoryLimit)
	live := map[string]bool{}
	for _, pod := range pods {
		if pod.DeletionTimestamp == nil {
			live[pod.Labels[v1alpha1.ControllerRevisionHashLabel]] = true
		}
	}
	for _, rev := range revision.ToPrune(revs, update, live, limit) {
		if err := r.client.Delete(ctx, rev); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting revision %s: %w", rev.Name, err)
		}
	}
	return nil
}

package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/planner"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// Event reasons, as the upstream DaemonSet controller emits them.
const (
	eventSuccessfulCreate = "SuccessfulCreate"
	eventFailedCreate     = "FailedCreate"
	eventSuccessfulDelete = "SuccessfulDelete"
	eventFailedDelete     = "FailedDelete"
	eventFailedDaemonPod  = "FailedDaemonPod"
	eventSuccessfulUpdate = "SuccessfulUpdate"
	eventFailedUpdate     = "FailedUpdate"
)

// slowStartInitialBatch is the first create batch; each batch that fully succeeds doubles the next. A set whose
// pods are all refused (quota, admission) then costs one failed create per pass, not hundreds.
const slowStartInitialBatch = 1

// createOutcome is what became of a pass's pod creates: how many were attempted, and the first refusal.
type createOutcome struct {
	attempted int
	err       error
}

// apply carries out a plan: creates in slow-start batches, then deletes, then in-place updates, each capped at
// burstReplicas, with expectations raised before each write and lowered for writes that failed.
func (r *NodeAgentSetReconciler) apply(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, plan planner.Plan) (createOutcome, error) {
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
	created := createOutcome{attempted: len(creates), err: errors.Unwrap(createErr)}

	deletes := plan.Deletes
	if len(deletes) > r.burstReplicas {
		deletes = deletes[:r.burstReplicas]
	}
	deleteErr := r.deletePods(ctx, set, deletes)

	updates := plan.Updates
	if len(updates) > r.burstReplicas {
		updates = updates[:r.burstReplicas]
	}
	updateErr := r.updatePods(ctx, set, updates)
	return created, errors.Join(createErr, deleteErr, updateErr)
}

func (r *NodeAgentSetReconciler) createPods(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, creates []planner.PodCreation) error {
	if len(creates) == 0 {
		return nil
	}
	key := client.ObjectKeyFromObject(set)
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
		errs := r.createBatch(ctx, set, update, creates[start:end])
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
		return fmt.Errorf("creating pods: %w", firstErr)
	}
	return nil
}

func (r *NodeAgentSetReconciler) createBatch(ctx context.Context, set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, batch []planner.PodCreation) []error {
	key := client.ObjectKeyFromObject(set)
	return inParallel(batch, func(c planner.PodCreation) error {
		pod, err := newPodFor(set, update, c)
		if err == nil {
			err = r.pods.CreatePod(ctx, pod)
		}
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

// newPodFor builds the pod a creation asks for: from the set's template for the update revision, or from the
// revision's own stored template for an older one.
func newPodFor(set *v1alpha1.NodeAgentSet, update *appsv1.ControllerRevision, c planner.PodCreation) (*corev1.Pod, error) {
	if c.Revision == nil || c.Revision.Name == update.Name {
		override := placement.NewOverrideMatcher(set.Spec.NodeOverrides).Named(c.NodeOverride)
		return placement.NewPodWithOverride(set, &set.Spec.Template, override, c.NodeName,
			update.Labels[v1alpha1.ControllerRevisionHashLabel]), nil
	}
	content, err := revision.ContentOf(c.Revision)
	if err != nil {
		return nil, fmt.Errorf("reading the template of revision %s: %w", c.Revision.Name, err)
	}
	override := placement.NewOverrideMatcher(content.NodeOverrides).Named(c.NodeOverride)
	return placement.NewPodWithOverride(set, content.Template, override, c.NodeName,
		c.Revision.Labels[v1alpha1.ControllerRevisionHashLabel]), nil
}

// updatePods carries out in-place updates: each pod is patched to its target revision's hash label and, for an
// image update, its new container images. The patch names the pod's UID, so a newer pod of the same name is never
// changed.
func (r *NodeAgentSetReconciler) updatePods(ctx context.Context, set *v1alpha1.NodeAgentSet, updates []planner.PodUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	key := client.ObjectKeyFromObject(set)
	log := logf.FromContext(ctx)
	for _, u := range updates {
		r.expectations.ExpectUpdate(key, u.Pod.UID, revisionMark(u.Revision.Labels[v1alpha1.ControllerRevisionHashLabel], u.NodeOverride))
	}
	errs := inParallel(updates, func(u planner.PodUpdate) error {
		hash := u.Revision.Labels[v1alpha1.ControllerRevisionHashLabel]
		mark := revisionMark(hash, u.NodeOverride)
		body, err := podUpdatePatch(u.Pod, hash, u)
		if err == nil {
			// The cached pod is shared with the informer: the writer patches a copy.
			err = r.pods.PatchPod(ctx, u.Pod.DeepCopy(), client.RawPatch(types.StrategicMergePatchType, body))
		}
		switch {
		case err == nil:
			log.V(1).Info("updated pod in place", "pod", u.Pod.Name, "reason", u.Reason, "message", u.Message)
			what := "Relabelled pod %s to revision %s"
			if len(u.Images) > 0 {
				what = "Updated the images of pod %s in place to revision %s"
			}
			r.recorder.Eventf(set, u.Pod, corev1.EventTypeNormal, eventSuccessfulUpdate, "Update", what, u.Pod.Name, u.Revision.Name)
			return nil
		case apierrors.IsNotFound(err):
			r.expectations.UpdateObserved(key, u.Pod.UID, mark)
			return nil
		default:
			r.recorder.Eventf(set, u.Pod, corev1.EventTypeWarning, eventFailedUpdate, "Update",
				"Error updating pod %s in place: %v", u.Pod.Name, err)
		}
		r.expectations.UpdateObserved(key, u.Pod.UID, mark)
		return fmt.Errorf("updating pod %s in place: %w", u.Pod.Name, err)
	})
	return errors.Join(errs...)
}

// revisionMark is what an in-place update expectation waits for in the cache: the pod's revision hash and node
// override together, since a relabel may change only the override (a node moved to a class whose override makes the
// same pod).
func revisionMark(hash, override string) string { return hash + "/" + override }

// podRevisionMark is revisionMark of a pod as the cache shows it.
func podRevisionMark(pod *corev1.Pod) string {
	return revisionMark(pod.Labels[v1alpha1.ControllerRevisionHashLabel], pod.Annotations[v1alpha1.NodeOverrideAnnotation])
}

// podUpdatePatch is the strategic merge patch that moves pod to the revision hash and the update's node override
// (its annotation is set, or removed for none, when it changes) and applies the update's container images
// (containers and init containers are merged by name) and template label and annotation changes (see
// metadataPatch). It carries the pod's UID, which the API server checks, so the patch cannot land on another pod of
// the same name.
func podUpdatePatch(pod *corev1.Pod, hash string, u planner.PodUpdate) ([]byte, error) {
	images, override := u.Images, u.NodeOverride
	spec := map[string]any{}
	byName := func(containers []corev1.Container) []map[string]any {
		var out []map[string]any
		for _, c := range containers {
			if image, ok := images[c.Name]; ok && image != c.Image {
				out = append(out, map[string]any{"name": c.Name, "image": image})
			}
		}
		return out
	}
	if cs := byName(pod.Spec.Containers); len(cs) > 0 {
		spec["containers"] = cs
	}
	if cs := byName(pod.Spec.InitContainers); len(cs) > 0 {
		spec["initContainers"] = cs
	}
	labels := metadataPatch(pod.Labels, u.Labels)
	labels[v1alpha1.ControllerRevisionHashLabel] = hash
	metadata := map[string]any{
		"uid":    pod.UID,
		"labels": labels,
	}
	annotations := metadataPatch(pod.Annotations, u.Annotations)
	if have, ok := pod.Annotations[v1alpha1.NodeOverrideAnnotation]; have != override || (ok && override == "") {
		var value any = override
		if override == "" {
			value = nil // deletes the key
		}
		annotations[v1alpha1.NodeOverrideAnnotation] = value
	}
	if len(spec) > 0 {
		// What the changed containers' status says now, so availability can tell when the kubelet restarted them.
		changed := map[string]string{}
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for _, c := range list {
				if image, ok := images[c.Name]; ok && image != c.Image {
					changed[c.Name] = image
				}
			}
		}
		state, err := json.Marshal(placement.NewInPlaceUpdateState(pod, hash, changed))
		if err != nil {
			return nil, err
		}
		annotations[v1alpha1.InPlaceUpdateStateAnnotation] = string(state)
	}
	if len(annotations) > 0 {
		metadata["annotations"] = annotations
	}
	patch := map[string]any{"metadata": metadata}
	if len(spec) > 0 {
		patch["spec"] = spec
	}
	return json.Marshal(patch)
}

// metadataPatch is the part of a strategic merge patch of labels or annotations that applies change to have: the
// keys to set that have lacks or holds otherwise, and the keys to remove that have still holds with the value the
// template dropped (one someone set to another value since is theirs).
func metadataPatch(have map[string]string, change planner.MetadataChange) map[string]any {
	out := map[string]any{}
	for k, v := range change.Set {
		if current, ok := have[k]; !ok || current != v {
			out[k] = v
		}
	}
	for k, v := range change.Remove {
		if current, ok := have[k]; ok && current == v {
			out[k] = nil
		}
	}
	return out
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

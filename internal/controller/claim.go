package controller

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// claim is the outcome of sorting candidate objects (pods or revisions) by ownership against one set.
type claim[T client.Object] struct {
	owned   []T // controlled by the set and matching its selector
	adopt   []T // orphans that match: the set takes them over
	release []T // controlled by the set but no longer matching: the set lets go of them
}

// claimObjects decides, without side effects, which objects the set owns, adopts and releases, with the upstream
// controller-reference rules: an object controlled by another owner is never touched; an orphan is adopted only when
// it matches and neither it nor the set is being deleted; a controlled object that stops matching is released unless
// the set is being deleted.
func claimObjects[T client.Object](set *v1alpha1.NodeAgentSet, selector labels.Selector, objs []T) claim[T] {
	var c claim[T]
	setDeleting := set.DeletionTimestamp != nil
	for _, obj := range objs {
		matches := selector.Matches(labels.Set(obj.GetLabels()))
		ref := metav1.GetControllerOfNoCopy(obj)
		switch {
		case ref != nil && ref.UID != set.UID:
			// Someone else's.
		case ref != nil && matches:
			c.owned = append(c.owned, obj)
		case ref != nil:
			if !setDeleting {
				c.release = append(c.release, obj)
			}
		case matches && !setDeleting && obj.GetDeletionTimestamp() == nil:
			c.adopt = append(c.adopt, obj)
		}
	}
	return c
}

// adoptPatch makes set the controller of an object; the uid in the patch fails it if the object was replaced.
func adoptPatch(set *v1alpha1.NodeAgentSet, objUID types.UID) (client.Patch, error) {
	ref := metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"ownerReferences": []metav1.OwnerReference{*ref},
			"uid":             objUID,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("building adoption patch: %w", err)
	}
	return client.RawPatch(types.StrategicMergePatchType, body), nil
}

// releasePatch removes set's owner reference from an object.
func releasePatch(set *v1alpha1.NodeAgentSet, objUID types.UID) (client.Patch, error) {
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"ownerReferences": []map[string]any{{"$patch": "delete", "uid": set.UID}},
			"uid":             objUID,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("building release patch: %w", err)
	}
	return client.RawPatch(types.StrategicMergePatchType, body), nil
}

package revision

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// maxNamePrefix keeps `<set>-<hash>` within the 253 characters of an object name: a 10-character hash, the dash,
// and at most 223 characters of the set's name (the bound apps/v1 uses for its revisions too).
const maxNamePrefix = 223

// Hash is the template's hash, the value of the controller-revision-hash label on its pods and revision. The
// collision count is mixed in so that raising it yields a different name after a clash.
func Hash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	return HashContent(template, nil, collisionCount)
}

// HashContent is the hash of a revision's content: the template and the node overrides. Without overrides it is
// the template's hash alone, so a set that has none keeps the hashes (and the revisions) it had before overrides
// existed.
func HashContent(template *corev1.PodTemplateSpec, overrides []v1alpha1.NodeOverride, collisionCount *int32) string {
	h := fnv.New32a()
	// encoding/json writes struct fields in declaration order and map keys sorted, so equal templates hash equally.
	raw, err := json.Marshal(template)
	if err != nil {
		// A PodTemplateSpec always marshals; fall back to its printed form rather than fail the reconcile.
		raw = fmt.Appendf(nil, "%#v", template)
	}
	_, _ = h.Write(raw)
	if len(overrides) > 0 {
		raw, err := json.Marshal(overrides)
		if err != nil {
			raw = fmt.Appendf(nil, "%#v", overrides)
		}
		_, _ = h.Write([]byte("nodeOverrides"))
		_, _ = h.Write(raw)
	}
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		_, _ = h.Write(buf[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// HashOf is the hash of the set's current template and node overrides.
func HashOf(set *v1alpha1.NodeAgentSet) string {
	return HashContent(&set.Spec.Template, set.Spec.NodeOverrides, set.Status.CollisionCount)
}

// Name is the ControllerRevision name for a set and a template hash.
func Name(setName, hash string) string {
	prefix := setName
	if len(prefix) > maxNamePrefix {
		prefix = prefix[:maxNamePrefix]
	}
	return prefix + "-" + hash
}

// Patch is the revision data for the set's template and node overrides: a merge patch that replaces
// spec.template and, when the set has overrides, sets spec.nodeOverrides. A set without overrides stores exactly
// what a DaemonSet's revision stores.
func Patch(set *v1alpha1.NodeAgentSet) ([]byte, error) {
	raw, err := json.Marshal(set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("encoding spec.template: %w", err)
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, fmt.Errorf("decoding spec.template: %w", err)
	}
	template["$patch"] = "replace"
	spec := map[string]any{"template": template}
	if len(set.Spec.NodeOverrides) > 0 {
		spec["nodeOverrides"] = set.Spec.NodeOverrides
	}
	return json.Marshal(map[string]any{"spec": spec})
}

// TemplateOf reads the pod template back out of a revision's data.
func TemplateOf(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	c, err := ContentOf(rev)
	if err != nil {
		return nil, err
	}
	return c.Template, nil
}

// Content is what a revision stores: the pod template and the node overrides.
type Content struct {
	Template      *corev1.PodTemplateSpec
	NodeOverrides []v1alpha1.NodeOverride
}

// ContentOf reads a revision's template and node overrides (none for a revision without them, such as a
// DaemonSet's).
func ContentOf(rev *appsv1.ControllerRevision) (Content, error) {
	var data struct {
		Spec struct {
			Template      json.RawMessage         `json:"template"`
			NodeOverrides []v1alpha1.NodeOverride `json:"nodeOverrides"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &data); err != nil {
		return Content{}, fmt.Errorf("revision %s: decoding data: %w", rev.Name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data.Spec.Template, &fields); err != nil {
		return Content{}, fmt.Errorf("revision %s: decoding spec.template: %w", rev.Name, err)
	}
	delete(fields, "$patch")
	clean, err := json.Marshal(fields)
	if err != nil {
		return Content{}, err
	}
	template := &corev1.PodTemplateSpec{}
	if err := json.Unmarshal(clean, template); err != nil {
		return Content{}, fmt.Errorf("revision %s: decoding spec.template: %w", rev.Name, err)
	}
	return Content{Template: template, NodeOverrides: data.Spec.NodeOverrides}, nil
}

// New builds the ControllerRevision for the set's current template with the given number. Its labels are the
// template's plus the hash label, and it is owned by the set so that deleting the set deletes its history.
func New(set *v1alpha1.NodeAgentSet, hash string, number int64) (*appsv1.ControllerRevision, error) {
	data, err := Patch(set)
	if err != nil {
		return nil, err
	}
	labels := make(map[string]string, len(set.Spec.Template.Labels)+1)
	for k, v := range set.Spec.Template.Labels {
		labels[k] = v
	}
	labels[v1alpha1.ControllerRevisionHashLabel] = hash
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            Name(set.Name, hash),
			Namespace:       set.Namespace,
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
	if cause, ok := set.Annotations[v1alpha1.ChangeCauseAnnotation]; ok {
		rev.Annotations = map[string]string{v1alpha1.ChangeCauseAnnotation: cause}
	}
	return rev, nil
}

// EqualData reports whether two revisions store the same template and node overrides.
func EqualData(a, b *appsv1.ControllerRevision) bool {
	if bytes.Equal(a.Data.Raw, b.Data.Raw) {
		return true
	}
	ca, errA := ContentOf(a)
	cb, errB := ContentOf(b)
	if errA != nil || errB != nil {
		return false
	}
	ja, _ := json.Marshal(ca.Template)
	jb, _ := json.Marshal(cb.Template)
	if !bytes.Equal(ja, jb) {
		return false
	}
	if len(ca.NodeOverrides) == 0 && len(cb.NodeOverrides) == 0 {
		return true
	}
	ja, _ = json.Marshal(ca.NodeOverrides)
	jb, _ = json.Marshal(cb.NodeOverrides)
	return bytes.Equal(ja, jb)
}

// MaxNumber is the highest revision number among revs, 0 when there are none.
func MaxNumber(revs []*appsv1.ControllerRevision) int64 {
	var highest int64
	for _, r := range revs {
		if r.Revision > highest {
			highest = r.Revision
		}
	}
	return highest
}

// SortByNumber orders revisions oldest first (by number, then by name for equal numbers).
func SortByNumber(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		if revs[i].Revision != revs[j].Revision {
			return revs[i].Revision < revs[j].Revision
		}
		return revs[i].Name < revs[j].Name
	})
}

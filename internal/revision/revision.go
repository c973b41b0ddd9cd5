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
	h := fnv.New32a()
	// encoding/json writes struct fields in declaration order and map keys sorted, so equal templates hash equally.
	raw, err := json.Marshal(template)
	if err != nil {
		// A PodTemplateSpec always marshals; fall back to its printed form rather than fail the reconcile.
		raw = fmt.Appendf(nil, "%#v", template)
	}
	_, _ = h.Write(raw)
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		_, _ = h.Write(buf[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Name is the ControllerRevision name for a set and a template hash.
func Name(setName, hash string) string {
	prefix := setName
	if len(prefix) > maxNamePrefix {
		prefix = prefix[:maxNamePrefix]
	}
	return prefix + "-" + hash
}

// Patch is the revision data for the set's template: a strategic-merge patch that replaces spec.template.
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
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// TemplateOf reads the pod template back out of a revision's data.
func TemplateOf(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var data struct {
		Spec struct {
			Template json.RawMessage `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &data); err != nil {
		return nil, fmt.Errorf("revision %s: decoding data: %w", rev.Name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data.Spec.Template, &fields); err != nil {
		return nil, fmt.Errorf("revision %s: decoding spec.template: %w", rev.Name, err)
	}
	delete(fields, "$patch")
	clean, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	template := &corev1.PodTemplateSpec{}
	if err := json.Unmarshal(clean, template); err != nil {
		return nil, fmt.Errorf("revision %s: decoding spec.template: %w", rev.Name, err)
	}
	return template, nil
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

// EqualData reports whether two revisions store the same template.
func EqualData(a, b *appsv1.ControllerRevision) bool {
	if bytes.Equal(a.Data.Raw, b.Data.Raw) {
		return true
	}
	ta, errA := TemplateOf(a)
	tb, errB := TemplateOf(b)
	if errA != nil || errB != nil {
		return false
	}
	ja, _ := json.Marshal(ta)
	jb, _ := json.Marshal(tb)
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

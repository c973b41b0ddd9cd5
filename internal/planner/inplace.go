package planner

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/podspec"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// inPlaceChange is what moving a pod from one revision to the update revision in place changes.
type inPlaceChange struct {
	// images are the new container images by container name.
	images map[string]string
	// labels and annotations are the template's changes (see templateMetadataChange).
	labels, annotations MetadataChange
}

// inPlaceUpdate returns what moves pod, on the node st, to the update revision in place, when only container images
// (and the template's labels and annotations) differ between its revision's template and the update revision's, and
// the policy allows it. The node overrides must not change the pod either: both revisions carry the same
// spec.nodeOverrides and the pod already runs the override its node takes now; otherwise the pod is recreated.
func (d *decision) inPlaceUpdate(st *nodeState, pod *corev1.Pod) (*inPlaceChange, bool) {
	if !d.strategy.inPlace || d.snap.UpdateRevision == nil {
		return nil, false
	}
	change := d.inPlaceChangeFrom(pod.Labels[v1alpha1.ControllerRevisionHashLabel])
	if change == nil || placement.PodOverride(pod) != placement.OverrideName(st.override) {
		return nil, false
	}
	// A pod still waiting for the kubelet to run its last in-place update is recreated: the kubelet may yet start
	// the images of that update, which a second patch could not tell from the new ones.
	if placement.InPlaceUpdatePending(pod) {
		return nil, false
	}
	// The pod must have each container the change names; one that someone edited out is recreated instead.
	for name := range change.images {
		if !hasContainer(pod, name) {
			return nil, false
		}
	}
	return change, true
}

// inPlaceChangeFrom is what an in-place update from the revision with hash to the update revision changes; nil when
// a pod of that revision cannot be updated in place.
func (d *decision) inPlaceChangeFrom(hash string) *inPlaceChange {
	if c, ok := d.inPlaceChanges[hash]; ok {
		return c
	}
	var change *inPlaceChange
	from, to := d.contentOfHash(hash), d.contentOfHash(d.hash)
	if from != nil && to != nil && equality.Semantic.DeepEqual(from.NodeOverrides, to.NodeOverrides) {
		if images, ok := ImageOnlyChange(from.Template, to.Template); ok {
			labels, annotations := templateMetadataChange(from.Template, to.Template)
			if d.selectorMismatch != "" {
				// The template's labels would take the pod out of the set's selector; only its images change.
				labels = MetadataChange{}
			}
			change = &inPlaceChange{images: images, labels: labels, annotations: annotations}
		}
	}
	if d.inPlaceChanges == nil {
		d.inPlaceChanges = map[string]*inPlaceChange{}
	}
	d.inPlaceChanges[hash] = change
	return change
}

// templateMetadataChange is how the labels and annotations that pods created from template to carry differ from
// those of pods created from template from: what a pod updated in place needs to look like a new one. The revision
// label is the patch's own business; the cluster-autoscaler annotation every pod gets unless the template sets it
// is compared as pods carry it.
func templateMetadataChange(from, to *corev1.PodTemplateSpec) (labels, annotations MetadataChange) {
	diff := func(a, b map[string]string) MetadataChange {
		var out MetadataChange
		for k, v := range b {
			if old, ok := a[k]; !ok || old != v {
				if out.Set == nil {
					out.Set = map[string]string{}
				}
				out.Set[k] = v
			}
		}
		for k, v := range a {
			if _, ok := b[k]; !ok {
				if out.Remove == nil {
					out.Remove = map[string]string{}
				}
				out.Remove[k] = v
			}
		}
		return out
	}
	podLabels := func(t *corev1.PodTemplateSpec) map[string]string {
		out := maps.Clone(t.Labels)
		delete(out, v1alpha1.ControllerRevisionHashLabel)
		return out
	}
	podAnnotations := func(t *corev1.PodTemplateSpec) map[string]string {
		out := map[string]string{v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation: "true"}
		maps.Copy(out, t.Annotations)
		delete(out, v1alpha1.NodeOverrideAnnotation)
		delete(out, v1alpha1.InPlaceUpdateStateAnnotation)
		return out
	}
	return diff(podLabels(from), podLabels(to)), diff(podAnnotations(from), podAnnotations(to))
}

// contentOfHash reads the template and node overrides of the set's revision with hash; nil when there is none or it
// is unreadable. Decoded revisions are kept for the pass, since many pods share a revision.
func (d *decision) contentOfHash(hash string) *revision.Content {
	if hash == "" {
		return nil
	}
	if t, ok := d.templates[hash]; ok {
		return t
	}
	var found *revision.Content
	for _, rev := range d.snap.Revisions {
		if rev != nil && rev.Labels[v1alpha1.ControllerRevisionHashLabel] == hash {
			if c, err := revision.ContentOf(rev); err == nil {
				found = &c
			}
			break
		}
	}
	if d.templates == nil {
		d.templates = map[string]*revision.Content{}
	}
	d.templates[hash] = found
	return found
}

// ImageOnlyChange reports whether template to differs from template from only in container images (of regular
// containers and of sidecars, the init containers with restartPolicy Always; matched by name in the same order) and
// in the template's labels and annotations, and returns the changed images by container name. Identical templates
// are not an image-only change, and neither is a new image for any other init container: the kubelet runs those
// once, before the pod's containers start, and never again in a running pod (it restarts a sidecar whose image
// changed, but skips the init containers that completed), so only a new pod runs the new image. Nor is a new image
// whose default pull policy differs from the old one's (from a version tag to :latest, say) while the template
// leaves the policy to the API server: a pod's imagePullPolicy cannot be changed, and a new pod would get the other.
func ImageOnlyChange(from, to *corev1.PodTemplateSpec) (map[string]string, bool) {
	a, b := from.Spec.DeepCopy(), to.Spec.DeepCopy()
	images := map[string]string{}
	blank := func(x, y []corev1.Container, init bool) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Name != y[i].Name {
				return false
			}
			if x[i].Image != y[i].Image {
				if init && !isSidecar(&y[i]) {
					return false
				}
				if podspec.PullPolicyOf(&x[i]) != podspec.PullPolicyOf(&y[i]) {
					return false
				}
				images[y[i].Name] = y[i].Image
			}
			x[i].Image, y[i].Image = "", ""
		}
		return true
	}
	if !blank(a.InitContainers, b.InitContainers, true) || !blank(a.Containers, b.Containers, false) {
		return nil, false
	}
	if len(images) == 0 || !equality.Semantic.DeepEqual(a, b) {
		return nil, false
	}
	return images, true
}

// isSidecar reports whether the init container c keeps running beside the pod's containers (restartPolicy Always),
// which is what makes the kubelet restart it when its image changes.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

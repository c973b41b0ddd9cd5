package planner

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

// inPlaceImages returns the container images (by container name) that move pod to the update revision when that
// is all that differs between its revision's template and the update revision's, and the policy allows it.
func (d *decision) inPlaceImages(pod *corev1.Pod) (map[string]string, bool) {
	if !d.strategy.inPlace || d.snap.UpdateRevision == nil {
		return nil, false
	}
	from := d.templateOfHash(pod.Labels[v1alpha1.ControllerRevisionHashLabel])
	to := d.templateOfHash(d.hash)
	if from == nil || to == nil {
		return nil, false
	}
	images, ok := ImageOnlyChange(from, to)
	if !ok {
		return nil, false
	}
	// The pod must have each container the change names; one that someone edited out is recreated instead.
	for name := range images {
		if !hasContainer(pod, name) {
			return nil, false
		}
	}
	return images, true
}

// templateOfHash reads the template of the set's revision with hash; nil when there is none or it is unreadable.
// Decoded templates are kept for the pass, since many pods share a revision.
func (d *decision) templateOfHash(hash string) *corev1.PodTemplateSpec {
	if hash == "" {
		return nil
	}
	if t, ok := d.templates[hash]; ok {
		return t
	}
	var found *corev1.PodTemplateSpec
	for _, rev := range d.snap.Revisions {
		if rev != nil && rev.Labels[v1alpha1.ControllerRevisionHashLabel] == hash {
			if t, err := revision.TemplateOf(rev); err == nil {
				found = t
			}
			break
		}
	}
	if d.templates == nil {
		d.templates = map[string]*corev1.PodTemplateSpec{}
	}
	d.templates[hash] = found
	return found
}

// ImageOnlyChange reports whether template to differs from template from only in container images (of init and
// regular containers, matched by name in the same order) and in the template's labels and annotations, and returns
// the changed images by container name. Identical templates are not an image-only change.
func ImageOnlyChange(from, to *corev1.PodTemplateSpec) (map[string]string, bool) {
	a, b := from.Spec.DeepCopy(), to.Spec.DeepCopy()
	images := map[string]string{}
	blank := func(x, y []corev1.Container) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Name != y[i].Name {
				return false
			}
			if x[i].Image != y[i].Image {
				images[y[i].Name] = y[i].Image
			}
			x[i].Image, y[i].Image = "", ""
		}
		return true
	}
	if !blank(a.InitContainers, b.InitContainers) || !blank(a.Containers, b.Containers) {
		return nil, false
	}
	if len(images) == 0 || !equality.Semantic.DeepEqual(a, b) {
		return nil, false
	}
	return images, true
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

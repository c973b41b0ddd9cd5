package edit

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// AllContainers as a container name sets the image of every container and init container.
const AllContainers = "*"

// ImageUpdate is one CONTAINER=IMAGE argument.
type ImageUpdate struct {
	Container string
	Image     string
}

// ParseImageArgs reads `NAME CONTAINER=IMAGE...`: the set's name argument first, then one or more updates, in the
// order given. `*=IMAGE` stands for every container and cannot be combined with other updates.
func ParseImageArgs(args []string) (nameArg string, updates []ImageUpdate, err error) {
	var names []string
	seen := map[string]bool{}
	for _, arg := range args {
		if !strings.Contains(arg, "=") {
			if len(updates) > 0 {
				return "", nil, fmt.Errorf("all resources must be specified before image changes: %s", arg)
			}
			names = append(names, arg)
			continue
		}
		container, image, _ := strings.Cut(arg, "=")
		switch {
		case container == "":
			return "", nil, fmt.Errorf("invalid image update %q: expected CONTAINER=IMAGE, the container name is empty", arg)
		case image == "":
			return "", nil, fmt.Errorf("invalid image update %q: expected CONTAINER=IMAGE, the image is empty", arg)
		case seen[container]:
			return "", nil, fmt.Errorf("container %q is given more than once", container)
		}
		seen[container] = true
		updates = append(updates, ImageUpdate{Container: container, Image: image})
	}
	switch {
	case len(names) == 0:
		return "", nil, errors.New("a NodeAgentSet name is required: kubectl nas set image NAME CONTAINER=IMAGE...")
	case len(names) > 1:
		return "", nil, fmt.Errorf("exactly one NodeAgentSet name is expected, got %d: %s", len(names), strings.Join(names, ", "))
	case len(updates) == 0:
		return "", nil, errors.New("at least one image update is required: CONTAINER=IMAGE")
	case seen[AllContainers] && len(updates) > 1:
		return "", nil, errors.New("all containers are already specified by *, but saw more than one container_name=container_image pairs")
	}
	return names[0], updates, nil
}

// SetImages applies the updates to the set's containers and init containers and reports whether any image
// changed. A container name found in neither list fails the whole edit, and the set is left as it was.
func SetImages(set *v1alpha1.NodeAgentSet, updates []ImageUpdate) (bool, error) {
	spec := &set.Spec.Template.Spec
	for _, u := range updates {
		if u.Container != AllContainers && !hasContainer(spec.InitContainers, u.Container) && !hasContainer(spec.Containers, u.Container) {
			return false, fmt.Errorf("unable to find container named %q", u.Container)
		}
	}
	changed := false
	for _, u := range updates {
		changed = setImage(spec.InitContainers, u) || changed
		changed = setImage(spec.Containers, u) || changed
	}
	return changed, nil
}

func hasContainer(containers []corev1.Container, name string) bool {
	for _, c := range containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

func setImage(containers []corev1.Container, u ImageUpdate) bool {
	changed := false
	for i := range containers {
		c := &containers[i]
		if (u.Container == AllContainers || c.Name == u.Container) && c.Image != u.Image {
			c.Image = u.Image
			changed = true
		}
	}
	return changed
}

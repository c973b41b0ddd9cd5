package admission

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplate checks the parts of the pod template that decide where and how a node agent runs. It is not
// the full pod validation (the apiserver applies that when the controller creates a pod); it is what must hold for
// the set to make sense as a node agent and for the controller to place pods by it.
func validatePodTemplate(template *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	metaPath := path.Child("metadata")
	errs = append(errs, validateLabelMap(template.Labels, metaPath.Child("labels"))...)
	errs = append(errs, validateAnnotationMap(template.Annotations, metaPath.Child("annotations"))...)

	spec := &template.Spec
	specPath := path.Child("spec")
	// A node agent runs until the set removes it: a pod that completes or fails must be restarted in place, and a
	// deadline would kill agents that are working as intended.
	if spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(specPath.Child("restartPolicy"), string(spec.RestartPolicy),
			[]string{string(corev1.RestartPolicyAlways)}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(specPath.Child("activeDeadlineSeconds"),
			"activeDeadlineSeconds in NodeAgentSet is not supported: its pods run until the set removes them"))
	}
	errs = append(errs, validateLabelMap(spec.NodeSelector, specPath.Child("nodeSelector"))...)
	errs = append(errs, validateNodeAffinity(spec.Affinity, specPath.Child("affinity"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateContainers(spec, specPath)...)
	if len(spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// validateContainers checks there is at least one container, every container and init container has a DNS label
// for a name and an image, and no two of them share a name (init containers and containers share one namespace).
func validateContainers(spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(specPath.Child("containers"), "must have at least one container"))
	}
	seen := map[string]bool{}
	check := func(container *corev1.Container, path *field.Path) {
		namePath := path.Child("name")
		if container.Name == "" {
			errs = append(errs, field.Required(namePath, ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(container.Name) {
				errs = append(errs, field.Invalid(namePath, container.Name, msg))
			}
			if seen[container.Name] {
				errs = append(errs, field.Duplicate(namePath, container.Name))
			}
			seen[container.Name] = true
		}
		if container.Image == "" {
			errs = append(errs, field.Required(path.Child("image"), ""))
		}
	}
	// Init containers first, as they run first; a duplicate is then reported on the later, regular container.
	for i := range spec.InitContainers {
		check(&spec.InitContainers[i], specPath.Child("initContainers").Index(i))
	}
	for i := range spec.Containers {
		check(&spec.Containers[i], specPath.Child("containers").Index(i))
	}
	return errs
}

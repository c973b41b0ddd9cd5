package admission

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplate checks the parts of the pod template that decide where and how a node agent runs. It is not
// the full pod validation (the apiserver applies that when the controller creates a pod); it is what must hold for
// the set to make sense as a node agent and for the controller to place pods by it. The rules a node agent adds to
// a pod (restartPolicy Always, no activeDeadlineSeconds, no ephemeral containers, at least one container) are CEL
// rules on the CRD's template.
func validatePodTemplate(template *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	metaPath := path.Child("metadata")
	errs = append(errs, validateLabelMap(template.Labels, metaPath.Child("labels"))...)
	errs = append(errs, validateAnnotationMap(template.Annotations, metaPath.Child("annotations"))...)

	spec := &template.Spec
	specPath := path.Child("spec")
	errs = append(errs, validateLabelMap(spec.NodeSelector, specPath.Child("nodeSelector"))...)
	errs = append(errs, validateNodeAffinity(spec.Affinity, specPath.Child("affinity"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateContainers(spec, specPath)...)
	return errs
}

// validateContainers checks every container and init container has a DNS label for a name and an image, and that
// no container shares its name with an init container (the two lists share one namespace). Two entries of one list
// with one name are the schema's error: both lists are maps keyed by name there.
func validateContainers(spec *corev1.PodSpec, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	initNames := sets.New[string]()
	check := func(container *corev1.Container, path *field.Path, isInit bool) {
		namePath := path.Child("name")
		if container.Name == "" {
			errs = append(errs, field.Required(namePath, ""))
		} else {
			for _, msg := range validation.IsDNS1123Label(container.Name) {
				errs = append(errs, field.Invalid(namePath, container.Name, msg))
			}
			if !isInit && initNames.Has(container.Name) {
				errs = append(errs, field.Duplicate(namePath, container.Name))
			}
		}
		if container.Image == "" {
			errs = append(errs, field.Required(path.Child("image"), ""))
		}
	}
	// Init containers first, as they run first; a clash is then reported on the regular container.
	for i := range spec.InitContainers {
		check(&spec.InitContainers[i], specPath.Child("initContainers").Index(i), true)
		initNames.Insert(spec.InitContainers[i].Name)
	}
	for i := range spec.Containers {
		check(&spec.Containers[i], specPath.Child("containers").Index(i), false)
	}
	return errs
}

package admission

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// validateNodeOverrides: every override has a valid node selector, names containers of the template, and leaves
// each container with resources a pod may have once applied to the template (valid quantities, no request above its
// limit) and env variables with valid names. The override's name (a DNS label, unique) and its list of containers
// (at least one, each name once) are the schema's rules.
func validateNodeOverrides(spec *v1alpha1.NodeAgentSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range spec.NodeOverrides {
		o := &spec.NodeOverrides[i]
		oPath := path.Index(i)
		errs = append(errs, validateLabelSelector(&o.NodeSelector, oPath.Child("nodeSelector"))...)
		errs = append(errs, validateContainerOverrides(&spec.Template, o, oPath.Child("containers"))...)
	}
	return errs
}

func validateContainerOverrides(template *corev1.PodTemplateSpec, o *v1alpha1.NodeOverride, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	known := sets.New[string]()
	for _, c := range template.Spec.Containers {
		known.Insert(c.Name)
	}
	for _, c := range template.Spec.InitContainers {
		known.Insert(c.Name)
	}
	effective := placement.ApplyOverride(template, o)
	for i := range o.Containers {
		co := &o.Containers[i]
		cPath := path.Index(i)
		if !known.Has(co.Name) {
			errs = append(errs, field.NotFound(cPath.Child("name"), co.Name))
			continue
		}
		for j, env := range co.Env {
			for _, msg := range validation.IsEnvVarName(env.Name) {
				errs = append(errs, field.Invalid(cPath.Child("env").Index(j).Child("name"), env.Name, msg))
			}
		}
		if co.Resources == nil {
			continue
		}
		rPath := cPath.Child("resources")
		errs = append(errs, validateQuantities(co.Resources.Requests, rPath.Child("requests"))...)
		errs = append(errs, validateQuantities(co.Resources.Limits, rPath.Child("limits"))...)
		errs = append(errs, validateRequestsWithinLimits(effectiveContainer(effective, co.Name), co, rPath)...)
	}
	return errs
}

func effectiveContainer(t *corev1.PodTemplateSpec, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{t.Spec.Containers, t.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func validateQuantities(list corev1.ResourceList, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedResourceNames(list) {
		q := list[name]
		for _, msg := range validation.IsQualifiedName(string(name)) {
			errs = append(errs, field.Invalid(path.Key(string(name)), string(name), msg))
		}
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(path.Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

// validateRequestsWithinLimits: once the override is applied, no request of the container exceeds its limit (the
// API server would refuse every pod of the node class). The error names the request when the override sets it,
// otherwise the override's limit that falls below the template's request.
func validateRequestsWithinLimits(c *corev1.Container, co *v1alpha1.ContainerOverride, path *field.Path) field.ErrorList {
	if c == nil {
		return nil
	}
	var errs field.ErrorList
	for _, name := range sortedResourceNames(c.Resources.Requests) {
		request := c.Resources.Requests[name]
		limit, ok := c.Resources.Limits[name]
		if !ok || request.Cmp(limit) <= 0 {
			continue
		}
		if _, own := co.Resources.Requests[name]; own {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(name)), request.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
			continue
		}
		errs = append(errs, field.Invalid(path.Child("limits").Key(string(name)), limit.String(),
			fmt.Sprintf("must be greater than or equal to %s request of %s", name, request.String())))
	}
	return errs
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]string, 0, len(list))
	for name := range list {
		names = append(names, string(name))
	}
	out := make([]corev1.ResourceName, 0, len(names))
	for _, n := range sets.List(sets.New(names...)) {
		out = append(out, corev1.ResourceName(n))
	}
	return out
}

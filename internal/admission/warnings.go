package admission

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Warnings returns the admission warnings for set: things that are valid but very likely not what the user meant.
// kubectl prints each as "Warning: ..." and stores the set anyway. The order is fixed by the manifest's order.
func Warnings(set *v1alpha1.NodeAgentSet) []string {
	var warnings []string
	warnings = append(warnings, hostPortSurgeWarnings(&set.Spec)...)
	warnings = append(warnings, tolerateEverythingWarnings(set.Spec.Template.Spec.Tolerations)...)
	if set.Spec.UpdateStrategy.Type == v1alpha1.OnDeleteStrategyType && set.Spec.UpdateStrategy.RollingUpdate != nil {
		warnings = append(warnings, "spec.updateStrategy.rollingUpdate: ignored while spec.updateStrategy.type is OnDelete")
	}
	return warnings
}

// hostPortSurgeWarnings warns about every host port in the template when the rollout surges: the surge pod lands on
// a node whose old pod still holds the port, so it cannot start and the rollout stops. With hostNetwork every
// container port is a host port.
func hostPortSurgeWarnings(spec *v1alpha1.NodeAgentSetSpec) []string {
	strategy := spec.UpdateStrategy
	if strategy.Type != v1alpha1.RollingUpdateStrategyType || strategy.RollingUpdate == nil ||
		!isPositiveBound(strategy.RollingUpdate.MaxSurge) {
		return nil
	}
	surge := strategy.RollingUpdate.MaxSurge.String()
	podSpec := &spec.Template.Spec
	specPath := field.NewPath("spec", "template", "spec")
	var warnings []string
	check := func(containers []corev1.Container, path *field.Path) {
		for i, container := range containers {
			for j, port := range container.Ports {
				portPath := path.Index(i).Child("ports").Index(j)
				var what string
				switch {
				case port.HostPort != 0:
					what = fmt.Sprintf("%s: host port %d", portPath.Child("hostPort"), port.HostPort)
				case podSpec.HostNetwork && port.ContainerPort != 0:
					what = fmt.Sprintf("%s: port %d on the host network", portPath.Child("containerPort"), port.ContainerPort)
				default:
					continue
				}
				warnings = append(warnings, fmt.Sprintf(
					"%s with spec.updateStrategy.rollingUpdate.maxSurge %s: the surge pod cannot start while the old pod "+
						"on the same node holds the port, so the rollout will not progress; use maxUnavailable instead", what, surge))
			}
		}
	}
	check(podSpec.InitContainers, specPath.Child("initContainers"))
	check(podSpec.Containers, specPath.Child("containers"))
	return warnings
}

// tolerateEverythingWarnings warns about a toleration with an empty key and operator Exists whose effect includes
// NoExecute: the pods then stay on nodes that are tainted precisely to evict their workloads.
// With effect NoSchedule or PreferNoSchedule it only lets the pods onto tainted nodes, which is what node agents
// usually want, so that is not warned about.
func tolerateEverythingWarnings(tolerations []corev1.Toleration) []string {
	var warnings []string
	path := field.NewPath("spec", "template", "spec", "tolerations")
	for i, toleration := range tolerations {
		if toleration.Key != "" || toleration.Operator != corev1.TolerationOpExists {
			continue
		}
		switch toleration.Effect {
		case "":
			warnings = append(warnings, fmt.Sprintf("%s: an empty key with operator Exists tolerates every taint, "+
				"including NoExecute taints, so no taint evicts the pods (not even one that takes a node out of service)", path.Index(i)))
		case corev1.TaintEffectNoExecute:
			warnings = append(warnings, fmt.Sprintf("%s: an empty key with operator Exists and effect NoExecute "+
				"tolerates every NoExecute taint, so no taint evicts the pods (not even one that takes a node out of service)", path.Index(i)))
		}
	}
	return warnings
}

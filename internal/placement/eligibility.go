package placement

import (
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	schedulingcorev1 "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// NodeFilter decides node eligibility for one set. Building it parses the template's node affinity and collects its
// tolerations once, so checking many nodes costs one parse, not one per node.
type NodeFilter struct {
	templateNodeName string
	tolerations      []corev1.Toleration
	affinity         nodeaffinity.RequiredNodeAffinity
}

// NewNodeFilter prepares the eligibility checks for set's current pod template. The set is not modified.
func NewNodeFilter(set *v1alpha1.NodeAgentSet) *NodeFilter {
	template := &set.Spec.Template.Spec
	// Only the tolerations and hostNetwork of the would-be pod matter for taints; copying just those avoids a deep
	// copy of the whole template.
	wouldBe := corev1.PodSpec{
		Tolerations: append([]corev1.Toleration(nil), template.Tolerations...),
		HostNetwork: template.HostNetwork,
	}
	AddDefaultTolerations(&wouldBe)
	return &NodeFilter{
		templateNodeName: template.NodeName,
		tolerations:      wouldBe.Tolerations,
		affinity:         nodeaffinity.NewRequiredNodeAffinity(template.NodeSelector, template.Affinity),
	}
}

// ShouldRun reports whether node should run the set's pod when it has none (shouldRun), and whether a pod already
// running there may stay (shouldContinueRunning). Resource fit is not considered: that is the scheduler's call.
func (f *NodeFilter) ShouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if f.templateNodeName != "" && f.templateNodeName != node.Name {
		return false, false
	}
	// A selector or affinity that does not parse matches no node, as for the scheduler.
	if matches, err := f.affinity.Match(node); err != nil || !matches {
		return false, false
	}
	if _, untolerated := f.untoleratedTaint(node, noScheduleOrNoExecute); !untolerated {
		return true, true
	}
	// The pod would not be scheduled here now, but one that already runs stays unless a NoExecute taint would evict
	// it anyway.
	_, evicting := f.untoleratedTaint(node, noExecute)
	return false, !evicting
}

func (f *NodeFilter) untoleratedTaint(node *corev1.Node, include func(*corev1.Taint) bool) (corev1.Taint, bool) {
	// The comparison-operator tolerations (TaintTolerationComparisonOperators) are an alpha feature, off by default
	// in the supported Kubernetes versions; the discarding logger keeps this function free of side effects.
	return schedulingcorev1.FindMatchingUntoleratedTaint(logr.Discard(), node.Spec.Taints, f.tolerations, include, false)
}

func noScheduleOrNoExecute(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

func noExecute(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoExecute }

// NodeShouldRunPod is NewNodeFilter(set).ShouldRun(node): whether node should run set's pod, and whether a pod already
// there may keep running. Use a NodeFilter when checking many nodes against one set.
func NodeShouldRunPod(node *corev1.Node, set *v1alpha1.NodeAgentSet) (shouldRun, shouldContinueRunning bool) {
	return NewNodeFilter(set).ShouldRun(node)
}

// defaultTolerations are the tolerations every pod of a set carries, as for a DaemonSet's pods: node problems must
// not evict a node agent (the NoExecute ones have no tolerationSeconds, so they hold forever), and the node-condition
// taints must not keep it off a node, since the agent is often what fixes the condition.
var defaultTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// hostNetworkToleration lets a host-network pod onto a node whose pod network is not up yet: such a pod does not
// need it, and is often the network plugin itself.
var hostNetworkToleration = corev1.Toleration{
	Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
}

// AddDefaultTolerations adds the default tolerations to spec, or updates a toleration with the same key, operator,
// value and effect (a tolerationSeconds on the not-ready or unreachable toleration is dropped, so the pod is never
// evicted for those). network-unavailable is tolerated only when spec.hostNetwork is set. No toleration is added twice.
func AddDefaultTolerations(spec *corev1.PodSpec) {
	for i := range defaultTolerations {
		addOrUpdateToleration(spec, defaultTolerations[i])
	}
	if spec.HostNetwork {
		addOrUpdateToleration(spec, hostNetworkToleration)
	}
}

// addOrUpdateToleration makes want the only toleration in spec that matches it by key, operator, value and effect.
func addOrUpdateToleration(spec *corev1.PodSpec, want corev1.Toleration) {
	out := spec.Tolerations[:0:0]
	placed := false
	for _, have := range spec.Tolerations {
		if !want.MatchToleration(&have) {
			out = append(out, have)
			continue
		}
		if !placed {
			out = append(out, want)
			placed = true
		}
	}
	if !placed {
		out = append(out, want)
	}
	spec.Tolerations = out
}

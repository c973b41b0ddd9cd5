package planner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// t0 is "now" in the tables.
var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

const (
	oldHash = "old111"
	newHash = "new222"
)

var (
	oldRevision = &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-" + oldHash, Namespace: "ops",
			Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: oldHash}},
		Revision: 1,
	}
	newRevision = &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-" + newHash, Namespace: "ops",
			Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: newHash}},
		Revision: 2,
	}
)

type setOpt func(*v1alpha1.NodeAgentSet)

func newSet(opts ...setOpt) *v1alpha1.NodeAgentSet {
	set := &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ops", UID: "set-uid", Generation: 2},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:2"}}},
			},
		},
		Status: v1alpha1.NodeAgentSetStatus{ObservedGeneration: 1},
	}
	for _, o := range opts {
		o(set)
	}
	return set
}

func rollingUpdate(mutate func(ru *v1alpha1.RollingUpdateNodeAgentSet)) setOpt {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Spec.UpdateStrategy.Type = v1alpha1.RollingUpdateStrategyType
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{}
		}
		mutate(s.Spec.UpdateStrategy.RollingUpdate)
	}
}

func intOrStr(v string) *intstr.IntOrString {
	x := intstr.Parse(v)
	return &x
}

func maxUnavailable(v string) setOpt {
	return rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.MaxUnavailable = intOrStr(v) })
}

func maxSurge(v string) setOpt {
	return rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
		ru.MaxSurge = intOrStr(v)
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = intOrStr("0")
		}
	})
}

func partition(v string) setOpt {
	return rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Partition = intOrStr(v) })
}

func paused() setOpt {
	return rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Paused = true })
}

func onDelete() setOpt {
	return func(s *v1alpha1.NodeAgentSet) { s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType }
}

func minReady(seconds int32) setOpt {
	return func(s *v1alpha1.NodeAgentSet) { s.Spec.MinReadySeconds = seconds }
}

func nodeSelector(kv ...string) setOpt {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Spec.Template.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Spec.Template.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

type nodeOpt func(*corev1.Node)

func node(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func label(k, v string) nodeOpt { return func(n *corev1.Node) { n.Labels[k] = v } }

func taint(key string, effect corev1.TaintEffect) nodeOpt {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
}

func nodes(names ...string) []*corev1.Node {
	var out []*corev1.Node
	for _, n := range names {
		out = append(out, node(n))
	}
	return out
}

type podOpt func(*corev1.Pod)

// pod is a bound, running pod of the given revision hash, created two hours and ready one hour before t0.
func pod(name, nodeName, hash string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "ops",
			CreationTimestamp: metav1.NewTime(t0.Add(-2 * time.Hour)),
			Labels:            map[string]string{"app": "agent", v1alpha1.ControllerRevisionHashLabel: hash},
		},
		Spec: corev1.PodSpec{NodeName: nodeName},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))},
			},
		},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func createdAgo(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(-d)) }
}

// readyAgo makes the pod ready since d before t0.
func readyAgo(d time.Duration) podOpt {
	return func(p *corev1.Pod) { setReady(p, corev1.ConditionTrue, t0.Add(-d)) }
}

// readyAt makes the pod ready since t as its kubelet stamped it (t may be after t0: a kubelet clock running ahead).
func readyAt(t time.Time) podOpt {
	return func(p *corev1.Pod) { setReady(p, corev1.ConditionTrue, t) }
}

// statusWrittenAt records, as the API server does in managedFields, that the pod's status was last written at t.
func statusWrittenAt(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		at := metav1.NewTime(t)
		p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{
			Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &at,
		})
	}
}

func notReady() podOpt {
	return func(p *corev1.Pod) { setReady(p, corev1.ConditionFalse, t0.Add(-time.Minute)) }
}

func setReady(p *corev1.Pod, status corev1.ConditionStatus, since time.Time) {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			p.Status.Conditions[i].Status = status
			p.Status.Conditions[i].LastTransitionTime = metav1.NewTime(since)
		}
	}
}

func phase(ph corev1.PodPhase) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = ph
		if ph != corev1.PodRunning {
			setReady(p, corev1.ConditionFalse, t0.Add(-time.Minute))
		}
	}
}

func terminating() podOpt {
	return func(p *corev1.Pod) {
		ts := metav1.NewTime(t0.Add(-time.Second))
		p.DeletionTimestamp = &ts
	}
}

// pending makes the pod unbound, pinned to its node through the required node affinity, and not ready.
func pending() podOpt {
	return func(p *corev1.Pod) {
		nodeName := p.Spec.NodeName
		p.Spec.NodeName = ""
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{
					{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}},
				},
			}}},
		}}
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = nil
	}
}

func unschedulable(msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg,
		}}
	}
}

// fixedBackoff puts the listed nodes in backoff for the given time.
type fixedBackoff map[string]time.Duration

func (b fixedBackoff) InBackoff(node string, _ time.Time) (bool, time.Duration) {
	left, ok := b[node]
	return ok, left
}

func snapshot(set *v1alpha1.NodeAgentSet, ns []*corev1.Node, pods ...*corev1.Pod) Snapshot {
	return Snapshot{
		Set:                   set,
		Nodes:                 ns,
		Pods:                  pods,
		Revisions:             []*appsv1.ControllerRevision{oldRevision, newRevision},
		UpdateRevision:        newRevision,
		Now:                   t0,
		Backoff:               NoBackoff{},
		ExpectationsSatisfied: true,
	}
}

// oldPods gives every named node a ready, available pod of the old revision, named after the node.
func oldPods(nodeNames ...string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, n := range nodeNames {
		out = append(out, pod("old-"+n, n, oldHash))
	}
	return out
}

// summary renders a plan's actions compactly: creates as node:Reason, deletes as pod:Reason.
func summary(p Plan) (creates, deletes []string) {
	for _, c := range p.Creates {
		creates = append(creates, fmt.Sprintf("%s:%s", c.NodeName, c.Reason))
	}
	for _, d := range p.Deletes {
		deletes = append(deletes, fmt.Sprintf("%s:%s", d.Pod.Name, d.Reason))
	}
	return creates, deletes
}

func condition(st v1alpha1.NodeAgentSetStatus, typ string) *metav1.Condition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			return &st.Conditions[i]
		}
	}
	return nil
}

// conditionsLine renders the four conditions as "Type=Status/Reason" joined by spaces.
func conditionsLine(st v1alpha1.NodeAgentSetStatus) string {
	var parts []string
	for _, typ := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionProgressing, v1alpha1.ConditionReconciling, v1alpha1.ConditionStalled} {
		c := condition(st, typ)
		if c == nil {
			parts = append(parts, typ+"=missing")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s/%s", typ, c.Status, c.Reason))
	}
	return strings.Join(parts, " ")
}

func concat(groups ...[]*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

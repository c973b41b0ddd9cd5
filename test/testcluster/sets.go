package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// DefaultImage is the image of NewSet's container. Nothing pulls it: the fake kubelet only writes status.
const DefaultImage = "registry.k8s.io/pause:3.10"

// NewSet builds a minimal NodeAgentSet like the upstream integration tests' DaemonSet: selector and template
// labels {app: name}, one container, termination grace period 0, RollingUpdate with maxUnavailable 1.
func NewSet(namespace, name string) *v1alpha1.NodeAgentSet {
	labels := map[string]string{"app": name}
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{{Name: "agent", Image: DefaultImage}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			},
			UpdateStrategy: RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0)),
		},
	}
}

// RollingUpdate is a RollingUpdate strategy with the given maxUnavailable and maxSurge.
func RollingUpdate(maxUnavailable, maxSurge intstr.IntOrString) v1alpha1.NodeAgentSetUpdateStrategy {
	return v1alpha1.NodeAgentSetUpdateStrategy{
		Type: v1alpha1.RollingUpdateStrategyType,
		RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{
			MaxUnavailable: &maxUnavailable,
			MaxSurge:       &maxSurge,
		},
	}
}

// OnDelete is the OnDelete strategy.
func OnDelete() v1alpha1.NodeAgentSetUpdateStrategy {
	return v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}
}

// LoadSet reads a NodeAgentSet manifest (a config/samples file, say).
func LoadSet(path string) (*v1alpha1.NodeAgentSet, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set := &v1alpha1.NodeAgentSet{}
	if err := yaml.UnmarshalStrict(raw, set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if set.APIVersion != v1alpha1.GroupVersion.String() || set.Kind != "NodeAgentSet" {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q, want %s NodeAgentSet", path, set.APIVersion, set.Kind, v1alpha1.GroupVersion)
	}
	return set, nil
}

// GetSet reads a NodeAgentSet.
func (c *Cluster) GetSet(ctx context.Context, namespace, name string) (*v1alpha1.NodeAgentSet, error) {
	set := &v1alpha1.NodeAgentSet{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, set); err != nil {
		return nil, err
	}
	return set, nil
}

// UpdateSet applies mutate to the current set and updates it, retrying on conflicts (the controller writes status
// concurrently), and returns the updated set.
func (c *Cluster) UpdateSet(ctx context.Context, namespace, name string, mutate func(*v1alpha1.NodeAgentSet)) (*v1alpha1.NodeAgentSet, error) {
	var updated *v1alpha1.NodeAgentSet
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		set, err := c.GetSet(ctx, namespace, name)
		if err != nil {
			return err
		}
		mutate(set)
		if err := c.Client.Update(ctx, set); err != nil {
			return err
		}
		updated = set
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("updating NodeAgentSet %s/%s: %w", namespace, name, err)
	}
	return updated, nil
}

// SetView is a NodeAgentSet and the pods it controls, as the API server holds them.
type SetView struct {
	Set *v1alpha1.NodeAgentSet
	// Pods are the pods whose controller is the set, sorted by node and name, terminating ones included.
	Pods []corev1.Pod
}

// ViewSet reads a set and its pods.
func (c *Cluster) ViewSet(ctx context.Context, namespace, name string) (*SetView, error) {
	set, err := c.GetSet(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	pods, err := c.OwnedPods(ctx, namespace, set.UID)
	if err != nil {
		return nil, err
	}
	return &SetView{Set: set, Pods: pods}, nil
}

// IsActive reports whether a pod counts as running somewhere: not being deleted and not ended.
func IsActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded
}

// ActivePodsByNode groups the active pods by the node they are bound to ("" for not yet bound).
func (v *SetView) ActivePodsByNode() map[string][]corev1.Pod {
	byNode := map[string][]corev1.Pod{}
	for _, p := range v.Pods {
		if IsActive(&p) {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	return byNode
}

// IsUpdated reports whether the pod runs the set's update revision (its hash label ends the revision's name).
func (v *SetView) IsUpdated(p *corev1.Pod) bool {
	hash := p.Labels[v1alpha1.ControllerRevisionHashLabel]
	return hash != "" && v.Set.Status.UpdateRevision != "" && strings.HasSuffix(v.Set.Status.UpdateRevision, "-"+hash)
}

// CheckPodsOn checks that every node in nodes runs exactly one active, bound, ready pod of the set's update
// revision, and that no other node runs one.
func (v *SetView) CheckPodsOn(nodes []string) error {
	var problems []string
	byNode := v.ActivePodsByNode()
	want := map[string]bool{}
	for _, n := range nodes {
		want[n] = true
		pods := byNode[n]
		switch {
		case len(pods) == 0:
			problems = append(problems, fmt.Sprintf("node %s has no pod", n))
		case len(pods) > 1:
			problems = append(problems, fmt.Sprintf("node %s has %d pods %v", n, len(pods), podNames(pods)))
		case !IsPodReady(&pods[0]):
			problems = append(problems, fmt.Sprintf("pod %s on %s is not ready (phase %q)", pods[0].Name, n, pods[0].Status.Phase))
		case !v.IsUpdated(&pods[0]):
			problems = append(problems, fmt.Sprintf("pod %s on %s has hash %q, update revision is %q", pods[0].Name, n,
				pods[0].Labels[v1alpha1.ControllerRevisionHashLabel], v.Set.Status.UpdateRevision))
		}
	}
	for _, n := range sortedKeys(byNode) {
		if !want[n] {
			problems = append(problems, fmt.Sprintf("unexpected pods %v on node %q", podNames(byNode[n]), n))
		}
	}
	return joinProblems(v, problems)
}

// CheckStatus checks the status of a set that settled on n eligible nodes with every pod updated and available:
// every count is n (misscheduled and unavailable 0), observedGeneration is the generation, the Ready condition is
// True for this generation and Reconciling is absent or False.
func (v *SetView) CheckStatus(n int32) error {
	st := v.Set.Status
	var problems []string
	expect := func(field string, got, want int32) {
		if got != want {
			problems = append(problems, fmt.Sprintf("status.%s = %d, want %d", field, got, want))
		}
	}
	expect("desiredNumberScheduled", st.DesiredNumberScheduled, n)
	expect("currentNumberScheduled", st.CurrentNumberScheduled, n)
	expect("numberReady", st.NumberReady, n)
	expect("updatedNumberScheduled", st.UpdatedNumberScheduled, n)
	expect("numberAvailable", st.NumberAvailable, n)
	expect("numberUnavailable", st.NumberUnavailable, 0)
	expect("numberMisscheduled", st.NumberMisscheduled, 0)
	if st.ObservedGeneration != v.Set.Generation {
		problems = append(problems, fmt.Sprintf("status.observedGeneration = %d, generation is %d", st.ObservedGeneration, v.Set.Generation))
	}
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	switch {
	case ready == nil:
		problems = append(problems, "no Ready condition")
	case ready.Status != metav1.ConditionTrue:
		problems = append(problems, fmt.Sprintf("Ready condition is %s (%s: %s)", ready.Status, ready.Reason, ready.Message))
	case ready.ObservedGeneration != v.Set.Generation:
		problems = append(problems, fmt.Sprintf("Ready condition observedGeneration %d, generation is %d", ready.ObservedGeneration, v.Set.Generation))
	}
	if rec := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReconciling); rec != nil && rec.Status == metav1.ConditionTrue {
		problems = append(problems, fmt.Sprintf("Reconciling condition is True (%s: %s)", rec.Reason, rec.Message))
	}
	return joinProblems(v, problems)
}

// CheckSettled is CheckPodsOn(nodes) and CheckStatus(len(nodes)).
func (v *SetView) CheckSettled(nodes []string) error {
	return errors.Join(v.CheckPodsOn(nodes), v.CheckStatus(int32(len(nodes))))
}

func joinProblems(v *SetView, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("NodeAgentSet %s/%s: %s", v.Set.Namespace, v.Set.Name, strings.Join(problems, "; "))
}

func podNames(pods []corev1.Pod) []string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

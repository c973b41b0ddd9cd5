package testcluster

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NodeOption adjusts a node built by NewNode.
type NodeOption func(*corev1.Node)

// WithLabels adds labels to the node.
func WithLabels(labels map[string]string) NodeOption {
	return func(n *corev1.Node) {
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		for k, v := range labels {
			n.Labels[k] = v
		}
	}
}

// WithTaints adds taints to the node.
func WithTaints(taints ...corev1.Taint) NodeOption {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, taints...) }
}

// Unschedulable cordons the node the way `kubectl cordon` and the node controller do: spec.unschedulable and the
// node.kubernetes.io/unschedulable:NoSchedule taint.
func Unschedulable() NodeOption {
	return func(n *corev1.Node) {
		n.Spec.Unschedulable = true
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
}

// NotReady sets the Ready condition to False (without the not-ready taint, which no node lifecycle controller adds
// here).
func NotReady() NodeOption {
	return func(n *corev1.Node) { setNodeCondition(n, corev1.NodeReady, corev1.ConditionFalse) }
}

// NetworkUnavailable marks the node's network as not configured: Ready False, NetworkUnavailable True and the
// node.kubernetes.io/network-unavailable:NoSchedule taint, as on a node whose network plugin has not started.
func NetworkUnavailable() NodeOption {
	return func(n *corev1.Node) {
		setNodeCondition(n, corev1.NodeReady, corev1.ConditionFalse)
		setNodeCondition(n, corev1.NodeNetworkUnavailable, corev1.ConditionTrue)
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule})
	}
}

// WithAllocatable replaces the node's allocatable (and capacity) resources.
func WithAllocatable(cpu, memory, pods string) NodeOption {
	return func(n *corev1.Node) {
		res := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(memory),
			corev1.ResourcePods:   resource.MustParse(pods),
		}
		n.Status.Allocatable = res
		n.Status.Capacity = res.DeepCopy()
	}
}

// NewNode builds a Ready node with room for plenty of pods; options adjust it.
func NewNode(name string, opts ...NodeOption) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{corev1.LabelHostname: name},
		},
	}
	WithAllocatable("8", "16Gi", "110")(n)
	setNodeCondition(n, corev1.NodeReady, corev1.ConditionTrue)
	for _, opt := range opts {
		opt(n)
	}
	return n
}

func setNodeCondition(n *corev1.Node, typ corev1.NodeConditionType, status corev1.ConditionStatus) {
	now := metav1.Now()
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == typ {
			n.Status.Conditions[i].Status = status
			n.Status.Conditions[i].LastTransitionTime = now
			return
		}
	}
	n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
		Type: typ, Status: status, LastHeartbeatTime: now, LastTransitionTime: now, Reason: "TestCluster",
	})
}

// CreateNode creates the node and then writes its status through the status subresource, so conditions and
// allocatable resources hold whatever the create did with them.
func (c *Cluster) CreateNode(ctx context.Context, node *corev1.Node) (*corev1.Node, error) {
	status := node.Status.DeepCopy()
	created := node.DeepCopy()
	if err := c.Client.Create(ctx, created); err != nil {
		return nil, fmt.Errorf("creating node %s: %w", node.Name, err)
	}
	created.Status = *status
	if err := c.Client.Status().Update(ctx, created); err != nil {
		return nil, fmt.Errorf("writing status of node %s: %w", node.Name, err)
	}
	return created, nil
}

// CreateNodes creates NewNode(prefix-0 ... prefix-(n-1), opts...) and returns their names.
func (c *Cluster) CreateNodes(ctx context.Context, prefix string, n int, opts ...NodeOption) ([]string, error) {
	names := make([]string, 0, n)
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := c.CreateNode(ctx, NewNode(name, opts...)); err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, nil
}

// SetNodeLabels sets (value non-nil) or removes (value nil) node labels with a merge patch, like `kubectl label`.
func (c *Cluster) SetNodeLabels(ctx context.Context, name string, labels map[string]*string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		return err
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Client.Patch(ctx, node, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("labelling node %s: %w", name, err)
	}
	return nil
}

// SetNodeTaints replaces the node's taints, like `kubectl taint` does.
func (c *Cluster) SetNodeTaints(ctx context.Context, name string, taints ...corev1.Taint) error {
	return c.updateNode(ctx, name, func(n *corev1.Node) { n.Spec.Taints = taints })
}

// SetNodeUnschedulable cordons or uncordons the node (spec.unschedulable plus the matching taint).
func (c *Cluster) SetNodeUnschedulable(ctx context.Context, name string, unschedulable bool) error {
	return c.updateNode(ctx, name, func(n *corev1.Node) {
		n.Spec.Unschedulable = unschedulable
		var kept []corev1.Taint
		for _, t := range n.Spec.Taints {
			if t.Key != corev1.TaintNodeUnschedulable {
				kept = append(kept, t)
			}
		}
		if unschedulable {
			kept = append(kept, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
		}
		n.Spec.Taints = kept
	})
}

// SetNodeReady sets the node's Ready condition.
func (c *Cluster) SetNodeReady(ctx context.Context, name string, ready bool) error {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		setNodeCondition(n, corev1.NodeReady, status)
		return c.Client.Status().Update(ctx, n)
	})
}

// DeleteNode deletes the node (pods bound to it stay until the pod garbage collector or the test removes them).
func (c *Cluster) DeleteNode(ctx context.Context, name string) error {
	err := c.Client.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting node %s: %w", name, err)
	}
	return nil
}

func (c *Cluster) updateNode(ctx context.Context, name string, mutate func(*corev1.Node)) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		mutate(n)
		return c.Client.Update(ctx, n)
	})
	if err != nil {
		return fmt.Errorf("updating node %s: %w", name, err)
	}
	return nil
}

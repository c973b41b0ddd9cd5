package testcluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// TestNamespaceLabel marks the namespaces that CreateNamespace made; Reset empties them.
const TestNamespaceLabel = "testcluster.nodeagentset.io/test-namespace"

// CreateNamespace creates a namespace with a generated name starting with prefix and returns the name.
func (c *Cluster) CreateNamespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: strings.TrimSuffix(prefix, "-") + "-",
		Labels:       map[string]string{TestNamespaceLabel: "true"},
	}}
	if err := c.Client.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating namespace %s*: %w", prefix, err)
	}
	return ns.Name, nil
}

// resetTimeout bounds Reset's wait for the objects to disappear.
const resetTimeout = 2 * time.Minute

// Reset gives the next test a clean cluster: it deletes every NodeAgentSet in every namespace (dropping finalizers
// that would block without a garbage collector), then every DaemonSet, pod and ControllerRevision in the test namespaces and
// in default, and every node, and waits until they are gone. Namespaces stay (there is no namespace controller to
// finish deleting them).
func (c *Cluster) Reset(ctx context.Context) error {
	var errs []error
	sets := &v1alpha1.NodeAgentSetList{}
	if err := c.Client.List(ctx, sets); err != nil {
		return fmt.Errorf("reset: listing NodeAgentSets: %w", err)
	}
	for i := range sets.Items {
		set := &sets.Items[i]
		if len(set.Finalizers) > 0 {
			patch := client.MergeFrom(set.DeepCopy())
			set.Finalizers = nil
			if err := c.Client.Patch(ctx, set, patch); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("reset: dropping finalizers of %s/%s: %w", set.Namespace, set.Name, err))
			}
		}
		if err := c.Client.Delete(ctx, set, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("reset: deleting %s/%s: %w", set.Namespace, set.Name, err))
		}
	}
	if err := c.waitGone(ctx, "NodeAgentSets", func() (int, error) {
		l := &v1alpha1.NodeAgentSetList{}
		err := c.Client.List(ctx, l)
		return len(l.Items), err
	}); err != nil {
		errs = append(errs, err)
	}

	namespaces, err := c.testNamespaces(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, ns := range namespaces {
		errs = append(errs, c.emptyNamespace(ctx, ns)...)
	}
	nodes := &corev1.NodeList{}
	if err := c.Client.List(ctx, nodes); err != nil {
		errs = append(errs, fmt.Errorf("reset: listing nodes: %w", err))
	}
	for i := range nodes.Items {
		if err := c.DeleteNode(ctx, nodes.Items[i].Name); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.waitGone(ctx, "pods", func() (int, error) {
		n := 0
		for _, ns := range namespaces {
			l := &corev1.PodList{}
			if err := c.Client.List(ctx, l, client.InNamespace(ns)); err != nil {
				return 0, err
			}
			n += len(l.Items)
		}
		return n, nil
	}), c.waitGone(ctx, "nodes", func() (int, error) {
		l := &corev1.NodeList{}
		err := c.Client.List(ctx, l)
		return len(l.Items), err
	}))
	return errors.Join(errs...)
}

// testNamespaces are the namespaces Reset empties: the ones CreateNamespace made, plus default.
func (c *Cluster) testNamespaces(ctx context.Context) ([]string, error) {
	l := &corev1.NamespaceList{}
	if err := c.Client.List(ctx, l, client.HasLabels{TestNamespaceLabel}); err != nil {
		return nil, fmt.Errorf("reset: listing test namespaces: %w", err)
	}
	names := []string{metav1.NamespaceDefault}
	for _, ns := range l.Items {
		names = append(names, ns.Name)
	}
	return names, nil
}

// emptyNamespace deletes the namespace's DaemonSets (a suite may run the upstream controller, which would make
// new pods), then force-deletes its pods (finalizers dropped) and ControllerRevisions.
func (c *Cluster) emptyNamespace(ctx context.Context, ns string) []error {
	var errs []error
	if err := c.Client.DeleteAllOf(ctx, &appsv1.DaemonSet{}, client.InNamespace(ns)); client.IgnoreNotFound(err) != nil {
		errs = append(errs, fmt.Errorf("reset: deleting DaemonSets in %s: %w", ns, err))
	}
	pods := &corev1.PodList{}
	if err := c.Client.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return []error{fmt.Errorf("reset: listing pods in %s: %w", ns, err)}
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if len(pod.Finalizers) > 0 {
			patch := client.MergeFrom(pod.DeepCopy())
			pod.Finalizers = nil
			if err := c.Client.Patch(ctx, pod, patch); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("reset: dropping finalizers of pod %s/%s: %w", ns, pod.Name, err))
			}
		}
		if err := c.ForceDeletePod(ctx, ns, pod.Name, ""); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Client.DeleteAllOf(ctx, &appsv1.ControllerRevision{}, client.InNamespace(ns)); client.IgnoreNotFound(err) != nil {
		errs = append(errs, fmt.Errorf("reset: deleting ControllerRevisions in %s: %w", ns, err))
	}
	return errs
}

func (c *Cluster) waitGone(ctx context.Context, what string, count func() (int, error)) error {
	left := -1
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, resetTimeout, true, func(context.Context) (bool, error) {
		n, err := count()
		if err != nil {
			return false, nil //nolint:nilerr // a transient error: poll again
		}
		left = n
		return n == 0, nil
	})
	if err != nil {
		return fmt.Errorf("reset: %d %s still present after %s: %w", left, what, resetTimeout, err)
	}
	return nil
}

package daemonset

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Generous bounds: the suites share two cores with other packages' tests. They bound waiting, they are not
// performance expectations.
const (
	// settleTimeout: the controller, the scheduler and the fake kubelet bring a set to its final state.
	settleTimeout = 2 * time.Minute
	// gcTimeout: the garbage collector or the pod garbage collector (which waits 40s before removing pods of a
	// deleted node) removes pods.
	gcTimeout = 3 * time.Minute
	// quietPeriod: how long "nothing changes" is watched for.
	quietPeriod = 3 * time.Second
)

// strategyEntries run a table once per update strategy, as the upstream integration tests do.
func strategyEntries() []TableEntry {
	return []TableEntry{
		Entry("with the RollingUpdate strategy", v1alpha1.RollingUpdateStrategyType),
		Entry("with the OnDelete strategy", v1alpha1.OnDeleteStrategyType),
	}
}

// strategy returns the update strategy of a given type with the upstream tests' parameters.
func strategy(typ v1alpha1.NodeAgentSetUpdateStrategyType) v1alpha1.NodeAgentSetUpdateStrategy {
	if typ == v1alpha1.OnDeleteStrategyType {
		return testcluster.OnDelete()
	}
	return testcluster.NewSet("", "x").Spec.UpdateStrategy
}

// createSet creates the set and returns it as stored.
func createSet(ctx context.Context, set *v1alpha1.NodeAgentSet) *v1alpha1.NodeAgentSet {
	GinkgoHelper()
	Expect(cluster.Client.Create(ctx, set)).To(Succeed())
	return set
}

// createNodes creates count ready nodes named prefix-0... and returns their names.
func createNodes(ctx context.Context, prefix string, count int, opts ...testcluster.NodeOption) []string {
	GinkgoHelper()
	names, err := cluster.CreateNodes(ctx, prefix, count, opts...)
	Expect(err).NotTo(HaveOccurred())
	return names
}

// createNode creates one node.
func createNode(ctx context.Context, name string, opts ...testcluster.NodeOption) string {
	GinkgoHelper()
	_, err := cluster.CreateNode(ctx, testcluster.NewNode(name, opts...))
	Expect(err).NotTo(HaveOccurred())
	return name
}

// view reads the set and its pods.
func view(ctx context.Context, set *v1alpha1.NodeAgentSet) *testcluster.SetView {
	GinkgoHelper()
	v, err := cluster.ViewSet(ctx, set.Namespace, set.Name)
	Expect(err).NotTo(HaveOccurred())
	return v
}

// expectSettled waits until exactly the given nodes run one ready, updated pod of the set each and its status
// says so (counts, observedGeneration, Ready condition).
func expectSettled(ctx context.Context, set *v1alpha1.NodeAgentSet, nodes ...string) *testcluster.SetView {
	GinkgoHelper()
	return cluster.ExpectSettled(ctx, set, settleTimeout, nodes...)
}

// podOn returns the set's single active pod on node.
func podOn(v *testcluster.SetView, node string) corev1.Pod {
	GinkgoHelper()
	pods := v.ActivePodsByNode()[node]
	Expect(pods).To(HaveLen(1), "active pods of %s on %s", v.Set.Name, node)
	return pods[0]
}

// expectGone waits until the object no longer exists.
func expectGone(ctx context.Context, obj client.Object, timeout time.Duration) {
	GinkgoHelper()
	key := client.ObjectKeyFromObject(obj)
	Eventually(ctx, func() error {
		return cluster.Client.Get(ctx, key, obj.DeepCopyObject().(client.Object))
	}).WithTimeout(timeout).Should(Satisfy(apierrors.IsNotFound), "%T %s still exists", obj, key)
}

// podsWithLabels lists the namespace's pods carrying the labels, owned or not.
func podsWithLabels(ctx context.Context, namespace string, labels map[string]string) []corev1.Pod {
	GinkgoHelper()
	pods, err := cluster.ListPods(ctx, namespace, client.MatchingLabels(labels))
	Expect(err).NotTo(HaveOccurred())
	return pods
}

// uids maps pod names to UIDs, to tell a replaced pod from a kept one.
func uids(pods []corev1.Pod) map[string]types.UID {
	m := map[string]types.UID{}
	for _, p := range pods {
		m[p.Name] = p.UID
	}
	return m
}

// hasEvent reports whether an event with the reason was recorded for the object named name in the namespace.
func hasEvent(ctx context.Context, namespace, name, reason string) func() (bool, error) {
	return func() (bool, error) {
		events := &corev1.EventList{}
		if err := cluster.Client.List(ctx, events, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == name && e.Reason == reason {
				return true, nil
			}
		}
		return false, nil
	}
}

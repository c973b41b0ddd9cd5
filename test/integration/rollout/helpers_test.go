package rollout

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Generous bounds (two shared cores); they bound waiting and say nothing about speed.
const (
	settleTimeout  = 2 * time.Minute
	rolloutTimeout = 3 * time.Minute
	quietPeriod    = 3 * time.Second
)

// Images: none is pulled, the fake kubelet starts them all; one containing "bad" crash-loops.
const (
	imageV1  = "registry.k8s.io/pause:3.9"
	imageV2  = "registry.k8s.io/pause:3.10"
	imageBad = "registry.k8s.io/pause:bad"
	// imageMissing cannot be pulled: its pods stay Pending in ImagePullBackOff.
	imageMissing = "registry.k8s.io/pause:missing"
)

// kubeletOptions: pods become ready half a second after binding, so rollouts pass through states with new pods not
// ready yet; images containing "bad" crash-loop, and those containing "missing" cannot be pulled.
func kubeletOptions() *testcluster.KubeletOptions {
	return &testcluster.KubeletOptions{
		ReadyAfter: 500 * time.Millisecond,
		Outcome:    testcluster.ImagePullFailsIfImageContains("missing", testcluster.CrashLoopIfImageContains("bad")),
	}
}

func createSet(ctx context.Context, set *v1alpha1.NodeAgentSet) *v1alpha1.NodeAgentSet {
	GinkgoHelper()
	set.Spec.Template.Spec.Containers[0].Image = imageV1
	Expect(cluster.Client.Create(ctx, set)).To(Succeed())
	return set
}

func createNodes(ctx context.Context, prefix string, count int) []string {
	GinkgoHelper()
	names, err := cluster.CreateNodes(ctx, prefix, count)
	Expect(err).NotTo(HaveOccurred())
	return names
}

func updateSet(ctx context.Context, set *v1alpha1.NodeAgentSet, mutate func(*v1alpha1.NodeAgentSet)) *v1alpha1.NodeAgentSet {
	GinkgoHelper()
	updated, err := cluster.UpdateSet(ctx, set.Namespace, set.Name, mutate)
	Expect(err).NotTo(HaveOccurred())
	return updated
}

// setImage is `kubectl nas set image`: it changes the first container's image.
func setImage(image string) func(*v1alpha1.NodeAgentSet) {
	return func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.Containers[0].Image = image }
}

func expectSettled(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, nodes ...string) *testcluster.SetView {
	GinkgoHelper()
	return cluster.ExpectSettled(ctx, set, timeout, nodes...)
}

func view(ctx context.Context, set *v1alpha1.NodeAgentSet) *testcluster.SetView {
	GinkgoHelper()
	v, err := cluster.ViewSet(ctx, set.Namespace, set.Name)
	Expect(err).NotTo(HaveOccurred())
	return v
}

// expectObserved waits until the controller has acted on the set's current generation and computed its update
// revision for it, the point from which "nothing happens" can be watched for meaningfully.
func expectObserved(ctx context.Context, set *v1alpha1.NodeAgentSet) *testcluster.SetView {
	GinkgoHelper()
	var last *testcluster.SetView
	Eventually(ctx, func(g Gomega) {
		v, err := cluster.ViewSet(ctx, set.Namespace, set.Name)
		g.Expect(err).NotTo(HaveOccurred())
		last = v
		g.Expect(v.Set.Status.ObservedGeneration).To(Equal(v.Set.Generation))
	}).WithTimeout(settleTimeout).Should(Succeed())
	return last
}

// podIDs maps the set's active pods' names to their UIDs.
func podIDs(v *testcluster.SetView) map[string]types.UID {
	ids := map[string]types.UID{}
	for _, p := range v.Pods {
		if testcluster.IsActive(&p) {
			ids[p.Name] = p.UID
		}
	}
	return ids
}

// images maps nodes to the image of their active pods.
func images(v *testcluster.SetView) map[string][]string {
	m := map[string][]string{}
	for node, pods := range v.ActivePodsByNode() {
		for _, p := range pods {
			m[node] = append(m[node], p.Spec.Containers[0].Image)
		}
	}
	return m
}

// countImage counts the set's active pods running image.
func countImage(v *testcluster.SetView, image string) int {
	n := 0
	for _, p := range v.Pods {
		if testcluster.IsActive(&p) && p.Spec.Containers[0].Image == image {
			n++
		}
	}
	return n
}

// hashOf is the revision hash label of the set's pods, which must all agree.
func hashOf(v *testcluster.SetView) string {
	GinkgoHelper()
	hashes := map[string]bool{}
	for _, p := range v.Pods {
		hashes[p.Labels[v1alpha1.ControllerRevisionHashLabel]] = true
	}
	Expect(hashes).To(HaveLen(1), "all pods of one revision")
	for h := range hashes {
		return h
	}
	return ""
}

// readyPodsWithImage is a poll function for Eventually: the set's active, ready pods running image.
func readyPodsWithImage(ctx context.Context, set *v1alpha1.NodeAgentSet, image string) func() ([]corev1.Pod, error) {
	return func() ([]corev1.Pod, error) {
		v, err := cluster.ViewSet(ctx, set.Namespace, set.Name)
		if err != nil {
			return nil, err
		}
		var out []corev1.Pod
		for _, p := range v.Pods {
			if testcluster.IsActive(&p) && testcluster.IsPodReady(&p) && p.Spec.Containers[0].Image == image {
				out = append(out, p)
			}
		}
		return out, nil
	}
}

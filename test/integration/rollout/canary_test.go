package rollout

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// Canaries and the progress deadline (issue "safe rollouts"): the canary on canary=true nodes, its failure with
// Pause and Abort, Manual promotion through `kubectl nas rollout promote`, and a rollout that cannot progress.
// The suite's manager runs without the admission webhooks, so the controller's own defaults are exercised.
var _ = Describe("canaries and the progress deadline", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "canary", kubeletOptions())
	})

	canaryOn := func(set *v1alpha1.NodeAgentSet, mutate func(*v1alpha1.NodeAgentSetCanary)) {
		c := &v1alpha1.NodeAgentSetCanary{NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}}
		mutate(c)
		set.Spec.UpdateStrategy.RollingUpdate.Canary = c
	}
	canaryAndOthers := func(ctx SpecContext) (canaryNodes, others []string) {
		names, err := cluster.CreateNodes(ctx, "canary", 2, testcluster.WithLabels(map[string]string{"canary": "true"}))
		Expect(err).NotTo(HaveOccurred())
		return names, createNodes(ctx, "node", 3)
	}

	It("updates the canary nodes first, holds the rest for the canary's duration, then completes", func(ctx SpecContext) {
		const duration = 3 * time.Second
		set := testcluster.NewSet(ns, "canary")
		canaryOn(set, func(c *v1alpha1.NodeAgentSetCanary) { c.Duration = &metav1.Duration{Duration: duration} })
		createSet(ctx, set)
		canaryNodes, others := canaryAndOthers(ctx)
		all := append(append([]string{}, canaryNodes...), others...)
		expectSettled(ctx, set, settleTimeout, all...)

		down := &peak{}
		bounds, err := cluster.WatchPods(ctx, ns, noSurgeBounds(all, 1, down))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(bounds.Stop)
		seen := &podsSeen{byNode: map[string]map[types.UID]bool{}}
		contained, err := cluster.WatchPods(ctx, ns, canaryContainment(canaryNodes, imageV2, duration, seen))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(contained.Stop)

		updateSet(ctx, set, setImage(imageV2))
		By("the canary runs on the canary nodes only")
		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			g.Expect(v.Set.Status.Canary).NotTo(BeNil())
			g.Expect(v.Set.Status.Canary.Revision).To(Equal(v.Set.Status.UpdateRevision))
			g.Expect(v.Set.Status.Canary.Nodes).To(BeEquivalentTo(2))
			g.Expect(conditionReason(v.Set, v1alpha1.ConditionProgressing)).To(Equal(v1alpha1.ReasonCanaryRunning))
		}).WithTimeout(settleTimeout).Should(Succeed())

		after := expectSettled(ctx, set, rolloutTimeout, all...)
		Expect(after.Set.Status.Canary.Phase).To(Equal(v1alpha1.CanaryPhasePassed))
		Expect(conditionReason(after.Set, v1alpha1.ConditionReady)).To(Equal(v1alpha1.ReasonRolloutComplete))
		Expect(countImage(after, imageV2)).To(Equal(len(all)))
		Expect(bounds.Violations()).To(BeEmpty(), "maxUnavailable during the rollout")
		Expect(contained.Violations()).To(BeEmpty(), "no node outside the canary before it passed")
		for _, n := range others {
			Expect(seen.count(n)).To(Equal(2), "node %s had its old pod and one new pod, nothing replaced in between", n)
		}
	})

	It("stops a crash-looping canary at the canary nodes, and Abort puts them back on the old image", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "crash")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0))
		canaryOn(set, func(*v1alpha1.NodeAgentSetCanary) {})
		createSet(ctx, set)
		canaryNodes, others := canaryAndOthers(ctx)
		all := append(append([]string{}, canaryNodes...), others...)
		before := expectSettled(ctx, set, settleTimeout, all...)
		othersBefore := podsOn(before, others)

		updateSet(ctx, set, setImage(imageBad))
		By("the canary fails and the rollout holds (onFailure Pause, the default)")
		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			g.Expect(v.Set.Status.Canary).NotTo(BeNil())
			g.Expect(v.Set.Status.Canary.Phase).To(Equal(v1alpha1.CanaryPhaseFailed))
			g.Expect(conditionReason(v.Set, v1alpha1.ConditionStalled)).To(Equal(v1alpha1.ReasonCanaryFailed))
			g.Expect(conditionStatus(v.Set, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
			g.Expect(conditionStatus(v.Set, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
		}).WithTimeout(settleTimeout).Should(Succeed())
		failed := view(ctx, set)
		Expect(failed.Set.Status.Canary.Message).To(ContainSubstring("CrashLoopBackOff on "))
		Consistently(ctx, func() map[string]types.UID { return podsOn(view(ctx, set), others) }).
			WithTimeout(quietPeriod).Should(Equal(othersBefore), "the nodes outside the canary keep their pods")

		_, err := kubectlNas(ctx, ns, "rollout", "status", "crash")
		Expect(cli.FormatError(err)).To(HavePrefix(`error: nodeagentset "crash" canary failed: `))
		Expect(cli.FormatError(err)).To(ContainSubstring("CrashLoopBackOff"))

		By("switching onFailure to Abort puts the canary nodes back on the old image")
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy.RollingUpdate.Canary.OnFailure = v1alpha1.CanaryFailureAbort
		})
		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			want := map[string][]string{}
			for _, n := range all {
				want[n] = []string{imageV1}
			}
			g.Expect(images(v)).To(Equal(want))
			for _, p := range v.Pods {
				g.Expect(testcluster.IsPodReady(&p)).To(BeTrue(), "pod %s ready", p.Name)
			}
		}).WithTimeout(rolloutTimeout).Should(Succeed())
		aborted := view(ctx, set)
		Expect(podsOn(aborted, others)).To(Equal(othersBefore), "only the canary nodes' pods were replaced")
		Expect(conditionReason(aborted.Set, v1alpha1.ConditionStalled)).To(Equal(v1alpha1.ReasonCanaryFailed), "the failure stays until the template changes")
	})

	It("waits for kubectl nas rollout promote with Manual promotion", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "manual")
		canaryOn(set, func(c *v1alpha1.NodeAgentSetCanary) { c.Promotion = v1alpha1.CanaryPromotionManual })
		createSet(ctx, set)
		canaryNodes, others := canaryAndOthers(ctx)
		all := append(append([]string{}, canaryNodes...), others...)
		before := expectSettled(ctx, set, settleTimeout, all...)
		othersBefore := podsOn(before, others)

		_, err := kubectlNas(ctx, ns, "rollout", "promote", "manual")
		Expect(cli.FormatError(err)).To(ContainSubstring(`"manual" has no canary waiting for promotion`))

		updateSet(ctx, set, setImage(imageV2))
		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			g.Expect(v.Set.Status.Canary).NotTo(BeNil())
			g.Expect(v.Set.Status.Canary.Phase).To(Equal(v1alpha1.CanaryPhaseWaitingForPromotion))
			g.Expect(conditionReason(v.Set, v1alpha1.ConditionProgressing)).To(Equal(v1alpha1.ReasonCanaryWaitingForPromotion))
			g.Expect(conditionStatus(v.Set, v1alpha1.ConditionProgressing)).To(Equal(metav1.ConditionFalse))
		}).WithTimeout(settleTimeout).Should(Succeed())
		Consistently(ctx, func() map[string]types.UID { return podsOn(view(ctx, set), others) }).
			WithTimeout(quietPeriod).Should(Equal(othersBefore), "nothing beyond the canary before the promotion")
		out, err := kubectlNas(ctx, ns, "rollout", "status", "manual", "--watch=false")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring(`run "kubectl nas rollout promote manual"`))

		out, err = kubectlNas(ctx, ns, "rollout", "promote", "manual")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal("nodeagentset.apps.nodeagentset.io/manual promoted\n"))
		after := expectSettled(ctx, set, rolloutTimeout, all...)
		Expect(after.Set.Status.Canary.Phase).To(Equal(v1alpha1.CanaryPhasePassed))
		Expect(countImage(after, imageV2)).To(Equal(len(all)))
	})

	It("reports ProgressDeadlineExceeded for a rollout that cannot progress", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "deadline")
		set.Spec.ProgressDeadlineSeconds = ptr.To[int32](3)
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, setImage(imageBad))
		Eventually(ctx, func(g Gomega) {
			v := view(ctx, set)
			g.Expect(conditionStatus(v.Set, v1alpha1.ConditionProgressing)).To(Equal(metav1.ConditionFalse))
			g.Expect(conditionReason(v.Set, v1alpha1.ConditionProgressing)).To(Equal(v1alpha1.ReasonProgressDeadlineExceeded))
			g.Expect(conditionStatus(v.Set, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
			g.Expect(conditionReason(v.Set, v1alpha1.ConditionStalled)).To(Equal(v1alpha1.ReasonProgressDeadlineExceeded))
		}).WithTimeout(settleTimeout).Should(Succeed())
		stalled := apimeta.FindStatusCondition(view(ctx, set).Set.Status.Conditions, v1alpha1.ConditionStalled)
		Expect(stalled.Message).To(ContainSubstring("CrashLoopBackOff on "), "the failure reason is named")

		_, err := kubectlNas(ctx, ns, "rollout", "status", "deadline")
		Expect(cli.FormatError(err)).To(Equal(`error: nodeagentset "deadline" exceeded its progress deadline`))

		By("a fixed template makes progress again")
		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		Expect(conditionReason(after.Set, v1alpha1.ConditionProgressing)).To(Equal(v1alpha1.ReasonRolloutComplete))
	})
})

func conditionReason(set *v1alpha1.NodeAgentSet, typ string) string {
	if c := apimeta.FindStatusCondition(set.Status.Conditions, typ); c != nil {
		return c.Reason
	}
	return ""
}

func conditionStatus(set *v1alpha1.NodeAgentSet, typ string) metav1.ConditionStatus {
	if c := apimeta.FindStatusCondition(set.Status.Conditions, typ); c != nil {
		return c.Status
	}
	return ""
}

// podsOn maps the active pods on the given nodes to their UIDs.
func podsOn(v *testcluster.SetView, nodes []string) map[string]types.UID {
	ids := map[string]types.UID{}
	byNode := v.ActivePodsByNode()
	for _, n := range nodes {
		for _, p := range byNode[n] {
			ids[p.Name] = p.UID
		}
	}
	return ids
}

// canaryContainment checks every pod event: a pod of image on a node outside the canary may appear only once every
// canary node has run a ready pod of image for duration (judged by the pods' Ready times against the time the event
// arrived, which is no earlier than the moment the controller acted).
func canaryContainment(canaryNodes []string, image string, duration time.Duration, seen *podsSeen) testcluster.PodCheck {
	isCanary := map[string]bool{}
	for _, n := range canaryNodes {
		isCanary[n] = true
	}
	return func(ev testcluster.PodEvent, pods []corev1.Pod) []string {
		byNode := activeByTargetNode(pods)
		for node, nodePods := range byNode {
			for _, p := range nodePods {
				seen.add(node, p.UID)
			}
		}
		var problems []string
		for node, nodePods := range byNode {
			if isCanary[node] {
				continue
			}
			for _, p := range nodePods {
				if p.Spec.Containers[0].Image != image {
					continue
				}
				for _, c := range canaryNodes {
					if !readyWithImageSince(byNode[c], image, ev.At.Add(-duration)) {
						problems = append(problems, fmt.Sprintf("pod %s of %s on %s (outside the canary) while canary node %s has not run it ready for %s",
							p.Name, image, node, c, duration))
					}
				}
			}
		}
		return problems
	}
}

// podsSeen records the pods each node has held, for counting replacements. The PodWatch calls its check under its
// own lock, and the spec reads the counts only after the watch has seen everything it waits for.
type podsSeen struct {
	mu     sync.Mutex
	byNode map[string]map[types.UID]bool
}

func (s *podsSeen) add(node string, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byNode[node] == nil {
		s.byNode[node] = map[types.UID]bool{}
	}
	s.byNode[node][uid] = true
}

func (s *podsSeen) count(node string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byNode[node])
}

func readyWithImageSince(pods []corev1.Pod, image string, by time.Time) bool {
	for _, p := range pods {
		if since, ok := testcluster.ReadySince(&p); ok && p.Spec.Containers[0].Image == image && !since.After(by) {
			return true
		}
	}
	return false
}

// kubectlNas runs one `kubectl nas` command line in namespace ns against the suite's cluster, in process, and
// returns its output.
func kubectlNas(ctx context.Context, ns string, args ...string) (string, error) {
	GinkgoHelper()
	kubeconfig, err := cluster.KubeconfigPath()
	Expect(err).NotTo(HaveOccurred())
	out := &bytes.Buffer{}
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: GinkgoWriter}
	err = cli.Run(ctx, append([]string{"--kubeconfig", kubeconfig, "-n", ns}, args...), streams)
	return out.String(), err
}

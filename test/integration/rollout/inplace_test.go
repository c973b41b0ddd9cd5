package rollout

import (
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// podUpdatePolicy InPlaceIfPossible, against the fake kubelet's in-place restarts (the changed container stops, the
// pod turns not ready, then the container starts on the new image with restartCount + 1 and the pod is ready).
var _ = Describe("in-place image updates", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "inplace", kubeletOptions())
	})

	inPlaceSet := func(name string, maxUnavailable int32) *v1alpha1.NodeAgentSet {
		set := testcluster.NewSet(ns, name)
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(maxUnavailable), intstr.FromInt32(0))
		set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = v1alpha1.InPlaceIfPossiblePodUpdatePolicy
		return set
	}

	It("an image change patches every pod in place, with the template's new labels and annotations, never with more than maxUnavailable nodes down", func(ctx SpecContext) {
		const maxUnavailable = 2
		set := inPlaceSet("inplace", maxUnavailable)
		set.Spec.Template.Spec.Containers[0].Image = imageV1
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 5)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		down := &peak{}
		watch, err := cluster.WatchPods(ctx, ns, noSurgeBounds(nodes, maxUnavailable, down))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(watch.Stop)

		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			setImage(imageV2)(s)
			s.Spec.Template.Labels["version"] = "v2"
			s.Spec.Template.Annotations = map[string]string{"example.com/note": "rolled in place"}
		})
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)

		Expect(watch.Violations()).To(BeEmpty(), "bounds during the rollout")
		Expect(down.get()).To(BeNumerically(">=", 1), "the restarts took pods down")
		Expect(podIDs(after)).To(Equal(podIDs(before)), "the same pods, names and UIDs, run the new image")
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
			Expect(p.Labels).To(HaveKeyWithValue(v1alpha1.ControllerRevisionHashLabel, hashOf(after)))
			Expect(p.Labels).To(HaveKeyWithValue("version", "v2"), "pod %s carries the template's new label", p.Name)
			Expect(p.Annotations).To(HaveKeyWithValue("example.com/note", "rolled in place"))
			Expect(p.Status.ContainerStatuses).To(HaveLen(1))
			Expect(p.Status.ContainerStatuses[0].Image).To(Equal(imageV2))
			Expect(p.Status.ContainerStatuses[0].RestartCount).To(BeEquivalentTo(1), "pod %s restarted once", p.Name)
		}
		GinkgoWriter.Printf("at most %d nodes were down at once (maxUnavailable %d)\n", down.get(), maxUnavailable)
	})

	It("a sidecar's new image goes in place, an init container's recreates the pods", func(ctx SpecContext) {
		set := inPlaceSet("init", 1)
		set.Spec.Template.Spec.InitContainers = []corev1.Container{
			{Name: "setup", Image: imageV1},
			{Name: "proxy", Image: imageV1, RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)},
		}
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		By("the sidecar's image: the kubelet restarts the sidecar in the same pods")
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.InitContainers[1].Image = imageV2 })
		sidecarMoved := expectSettled(ctx, set, rolloutTimeout, nodes...)
		Expect(podIDs(sidecarMoved)).To(Equal(podIDs(before)), "the same pods, names and UIDs, run the new sidecar")
		for _, p := range sidecarMoved.Pods {
			Expect(p.Status.InitContainerStatuses).To(HaveLen(2))
			proxy := p.Status.InitContainerStatuses[1]
			Expect(proxy.Image).To(Equal(imageV2), "pod %s", p.Name)
			Expect(proxy.RestartCount).To(BeEquivalentTo(1), "pod %s restarted its sidecar once", p.Name)
		}

		By("the init container's image: the kubelet would not run it again, so the pods are recreated")
		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.InitContainers[0].Image = imageV2 })
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		for _, p := range after.Pods {
			Expect(podIDs(before)).NotTo(HaveKey(p.Name), "pod %s is new", p.Name)
			Expect(p.Spec.InitContainers[0].Image).To(Equal(imageV2))
			Expect(p.Annotations).NotTo(HaveKey(v1alpha1.InPlaceUpdateStateAnnotation), "pod %s was created, not patched", p.Name)
		}
	})

	It("pods whose image could not be pulled take the fixed image in place", func(ctx SpecContext) {
		set := inPlaceSet("typo", 1)
		set.Spec.Template.Spec.Containers[0].Image = imageMissing
		Expect(cluster.Client.Create(ctx, set)).To(Succeed()) // not createSet, which starts sets on imageV1
		nodes := createNodes(ctx, "node", 3)
		By("every pod waits in ImagePullBackOff, no container ever created")
		var stuck *testcluster.SetView
		Eventually(func(g Gomega) {
			stuck = view(ctx, set)
			g.Expect(stuck.Pods).To(HaveLen(len(nodes)))
			for _, p := range stuck.Pods {
				g.Expect(p.Status.ContainerStatuses).To(HaveLen(1))
				g.Expect(p.Status.ContainerStatuses[0].State.Waiting).NotTo(BeNil())
				g.Expect(p.Status.ContainerStatuses[0].State.Waiting.Reason).To(Equal("ImagePullBackOff"))
			}
		}).WithContext(ctx).WithTimeout(settleTimeout).Should(Succeed())

		By("the fixed image: the kubelet starts each container for the first time, restart count 0")
		updateSet(ctx, set, setImage(imageV1))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		Expect(podIDs(after)).To(Equal(podIDs(stuck)), "the same pods, names and UIDs, run the fixed image")
		for _, p := range after.Pods {
			Expect(p.Status.ContainerStatuses[0].Image).To(Equal(imageV1))
			Expect(p.Status.ContainerStatuses[0].RestartCount).To(BeZero(), "pod %s", p.Name)
			Expect(p.Annotations).To(HaveKey(v1alpha1.InPlaceUpdateStateAnnotation), "pod %s was patched in place", p.Name)
		}
	})

	It("a rollout in place to an image that cannot be pulled holds at maxUnavailable; the fix recreates the stuck pod", func(ctx SpecContext) {
		set := inPlaceSet("pull", 1)
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, setImage(imageMissing))
		var stuck string
		Eventually(func(g Gomega) {
			v := view(ctx, set)
			var waiting []string
			for _, p := range v.Pods {
				if len(p.Status.ContainerStatuses) == 0 {
					continue
				}
				if w := p.Status.ContainerStatuses[0].State.Waiting; w != nil && w.Reason == "ImagePullBackOff" {
					waiting = append(waiting, p.Name)
				}
			}
			g.Expect(waiting).To(HaveLen(1), "one pod patched to the missing image")
			stuck = waiting[0]
		}).WithContext(ctx).WithTimeout(rolloutTimeout).Should(Succeed())
		Expect(podIDs(before)).To(HaveKey(stuck), "the stuck pod was patched in place")

		By("the fixed image: the pod still waiting for its last in-place update is recreated, the others patched")
		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
		}
		ids := podIDs(after)
		Expect(ids).NotTo(HaveKey(stuck), "pod %s was recreated", stuck)
		kept := 0
		for name, uid := range podIDs(before) {
			if ids[name] == uid {
				kept++
			}
		}
		Expect(kept).To(Equal(len(nodes)-1), "the other pods were updated in place")
	})

	It("a change beyond images recreates the pods", func(ctx SpecContext) {
		set := inPlaceSet("recreate", 1)
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		before := expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, func(s *v1alpha1.NodeAgentSet) {
			setImage(imageV2)(s)
			s.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "debug"}}
		})
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		for _, p := range after.Pods {
			Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
			Expect(podIDs(before)).NotTo(HaveKey(p.Name), "pod %s is new", p.Name)
		}
	})
})

// A kubelet kills and starts a container without readiness probes in one sync, so the pod may report Ready all
// along, its Ready transition from before the patch: minReadySeconds must count from the container's start.
var _ = Describe("in-place image updates, pods ready through the restart", func() {
	It("each restarted pod waits minReadySeconds before the next is patched", func(ctx SpecContext) {
		opts := kubeletOptions()
		opts.ReadyThroughRestart = true
		ns := cluster.SpecNamespace(ctx, "inplace-ready", opts)
		const minReady = 3
		set := testcluster.NewSet(ns, "steady")
		set.Spec.UpdateStrategy = testcluster.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
		set.Spec.UpdateStrategy.RollingUpdate.PodUpdatePolicy = v1alpha1.InPlaceIfPossiblePodUpdatePolicy
		set.Spec.MinReadySeconds = minReady
		createSet(ctx, set)
		nodes := createNodes(ctx, "node", 3)
		expectSettled(ctx, set, settleTimeout, nodes...)

		updateSet(ctx, set, setImage(imageV2))
		after := expectSettled(ctx, set, rolloutTimeout, nodes...)
		var starts []time.Time
		for _, p := range after.Pods {
			cs := p.Status.ContainerStatuses[0]
			Expect(cs.RestartCount).To(BeEquivalentTo(1), "pod %s was restarted in place", p.Name)
			Expect(p.Status.Conditions).To(ContainElement(And(
				HaveField("Type", corev1.PodReady),
				HaveField("LastTransitionTime.Time", BeTemporally("<", cs.State.Running.StartedAt.Time)))),
				"pod %s stayed Ready through its restart", p.Name)
			starts = append(starts, cs.State.Running.StartedAt.Time)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
		// With maxUnavailable 1 the next patch waits until the restarted pod has run minReadySeconds; the start times
		// are stored to the second, hence the one second of slack.
		for i := 1; i < len(starts); i++ {
			Expect(starts[i].Sub(starts[i-1])).To(BeNumerically(">=", (minReady-1)*time.Second),
				"restart %d came %v after the one before", i, starts[i].Sub(starts[i-1]))
		}
	})
})

package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// BenchmarkDecide measures one planning pass at cluster sizes where a NodeAgentSet is expected to run: every node
// has a pod, half of them of the old revision (a rollout halfway through), nodeSelector and affinity in play.
// The nodes come in name order, as the reconciler hands them over, and the pods in no particular order, as the pod
// informer's index hands them out (a map), so that ordering them costs what it costs in the manager. Results and
// the command that made them are in docs/benchmarks.md.
func BenchmarkDecide(b *testing.B) {
	for _, size := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			set := newSet(maxUnavailable("10%"), nodeSelector("kubernetes.io/os", "linux"))
			var names []string
			for i := range size {
				names = append(names, fmt.Sprintf("node-%05d", i))
			}
			ns := nodes(names...)
			for _, n := range ns {
				n.Labels["kubernetes.io/os"] = "linux"
			}
			all := oldPods(names[:size/2]...)
			for _, n := range names[size/2:] {
				all = append(all, pod("new-"+n, n, newHash))
			}
			shuffle := rand.New(rand.NewPCG(1, uint64(size)))
			shuffle.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			snap := snapshot(set, ns, all...)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				plan := Decide(snap)
				if len(plan.Deletes) == 0 {
					b.Fatal("a half-done rollout planned no replacements")
				}
			}
		})
	}
}

// BenchmarkDecideInPlace plans an image-only RollingUpdate with podUpdatePolicy InPlaceIfPossible (maxUnavailable
// 10%) two fifths of the way through: 40% of the pods restarted on the new image after their in-place patch, 10%
// patched and waiting for the kubelet (the budget spent), half on the old revision. Every pod updated in place
// carries the update-state annotation, which the availability of each is read from on every pass.
func BenchmarkDecideInPlace(b *testing.B) {
	for _, size := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			set, revs := inPlaceFixture(b, v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
				func(s *corev1.PodSpec) { s.Containers[0].Image = "agent:2" })
			set.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = intOrStr("10%")
			var names []string
			for i := range size {
				names = append(names, fmt.Sprintf("node-%05d", i))
			}
			var all []*corev1.Pod
			for i, n := range names {
				p := pod("agent-"+n, n, oldHash, withImage("agent:1", 0))
				switch {
				case i < size*4/10:
					patchedInPlace(p)
					restartedOnNewImage(p)
				case i < size/2:
					patchedInPlace(p)
				}
				all = append(all, p)
			}
			shuffle := rand.New(rand.NewPCG(1, uint64(size)))
			shuffle.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			snap := snapshot(set, nodes(names...), all...)
			snap.Revisions, snap.UpdateRevision = revs, revs[1]
			if plan := Decide(snap); len(plan.Updates) != 0 || plan.Status.NumberUnavailable != int32(size/10) {
				b.Fatalf("with the budget spent: %d updates, %d unavailable; want 0 and %d", len(plan.Updates), plan.Status.NumberUnavailable, size/10)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				Decide(snap)
			}
		})
	}
}

package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"
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

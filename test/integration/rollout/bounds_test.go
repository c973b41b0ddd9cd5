package rollout

import (
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// peak records the largest value a check saw (nodes down, nodes surging), to tell that a rollout used its budget.
type peak struct{ v atomic.Int32 }

func (p *peak) observe(n int) {
	for {
		cur := p.v.Load()
		if int32(n) <= cur || p.v.CompareAndSwap(cur, int32(n)) {
			return
		}
	}
}

func (p *peak) get() int { return int(p.v.Load()) }

// activeByTargetNode groups the active pods (not deleting, not ended) by the node they are bound or pinned to.
// Pinned-but-unbound pods count for their node: the controller created them for it.
func activeByTargetNode(pods []corev1.Pod) map[string][]corev1.Pod {
	byNode := map[string][]corev1.Pod{}
	for _, p := range pods {
		if testcluster.IsActive(&p) {
			n := testcluster.TargetNode(&p)
			byNode[n] = append(byNode[n], p)
		}
	}
	return byNode
}

func hasReadyPod(pods []corev1.Pod) bool {
	for i := range pods {
		if testcluster.IsPodReady(&pods[i]) {
			return true
		}
	}
	return false
}

func sortedNodeNames(byNode map[string][]corev1.Pod) []string {
	names := make([]string, 0, len(byNode))
	for n := range byNode {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// noSurgeBounds is the invariant of a rolling update without surge: at most maxUnavailable of the nodes lack a
// ready pod, and no node ever has more than one active pod.
func noSurgeBounds(nodes []string, maxUnavailable int, down *peak) testcluster.PodCheck {
	return func(_ testcluster.PodEvent, pods []corev1.Pod) []string {
		byNode := activeByTargetNode(pods)
		var problems, notReady []string
		for _, n := range nodes {
			if !hasReadyPod(byNode[n]) {
				notReady = append(notReady, n)
			}
		}
		down.observe(len(notReady))
		if len(notReady) > maxUnavailable {
			problems = append(problems, fmt.Sprintf("%d nodes %v lack a ready pod, maxUnavailable is %d", len(notReady), notReady, maxUnavailable))
		}
		for _, n := range sortedNodeNames(byNode) {
			if len(byNode[n]) > 1 {
				problems = append(problems, fmt.Sprintf("node %q runs %d active pods without surge", n, len(byNode[n])))
			}
		}
		return problems
	}
}

// surgeBounds is the invariant of a surge rollout with maxUnavailable 0: every node keeps a ready pod, no node
// runs more than two active pods nor two of one revision, at most maxSurge nodes run a new pod beside an old one
// while the new one is not yet available (as upstream counts surge: a node whose new pod is available is done
// surging, its old pod goes in the same pass that may start the next surge pod), and an old pod goes only once its
// node's new pod has been ready for minReadySeconds.
func surgeBounds(nodes []string, maxSurge int, oldHash string, minReady time.Duration, surged *peak) testcluster.PodCheck {
	return func(ev testcluster.PodEvent, pods []corev1.Pod) []string {
		byNode := activeByTargetNode(pods)
		var problems []string
		for _, n := range nodes {
			if !hasReadyPod(byNode[n]) {
				problems = append(problems, fmt.Sprintf("node %q lacks a ready pod, maxUnavailable is 0", n))
			}
		}
		var surging []string
		for _, n := range sortedNodeNames(byNode) {
			ps := byNode[n]
			if len(ps) > 2 {
				problems = append(problems, fmt.Sprintf("node %q runs %d active pods", n, len(ps)))
			}
			if len(ps) != 2 {
				continue
			}
			h0, h1 := ps[0].Labels[v1alpha1.ControllerRevisionHashLabel], ps[1].Labels[v1alpha1.ControllerRevisionHashLabel]
			if h0 == h1 {
				problems = append(problems, fmt.Sprintf("node %q runs two pods of one revision", n))
				continue
			}
			newPod := &ps[0]
			if h0 == oldHash {
				newPod = &ps[1]
			}
			if !availableAt(newPod, minReady, ev.At) {
				surging = append(surging, n)
			}
		}
		surged.observe(len(surging))
		if len(surging) > maxSurge {
			problems = append(problems, fmt.Sprintf("%d nodes %v run a new pod that is not available yet beside an old one, maxSurge is %d",
				len(surging), surging, maxSurge))
		}
		if ev.Pod != nil && ev.Pod.Labels[v1alpha1.ControllerRevisionHashLabel] == oldHash &&
			(ev.Type == testcluster.PodDeleted || ev.Pod.DeletionTimestamp != nil) {
			node := testcluster.TargetNode(ev.Pod)
			var replacement *corev1.Pod
			for i, p := range byNode[node] {
				if p.Labels[v1alpha1.ControllerRevisionHashLabel] != oldHash {
					replacement = &byNode[node][i]
				}
			}
			switch {
			case replacement == nil:
				problems = append(problems, fmt.Sprintf("old pod %s on %q deleted with no new pod beside it", ev.Pod.Name, node))
			default:
				// The controller judged availability at or before ev.At.
				if !availableAt(replacement, minReady, ev.At) {
					since, ready := testcluster.ReadySince(replacement)
					problems = append(problems, fmt.Sprintf("old pod %s on %q deleted when its replacement %s was ready %v (since %s), minReadySeconds is %s",
						ev.Pod.Name, node, replacement.Name, ready, since.Format(time.RFC3339), minReady))
				}
			}
		}
		return problems
	}
}

// availableAt reports whether the pod has been ready for minReady at t. The Ready transition time is stored in
// whole seconds, rounded down, and the controller judges from that same stored value.
func availableAt(p *corev1.Pod, minReady time.Duration, t time.Time) bool {
	since, ready := testcluster.ReadySince(p)
	return ready && !t.Before(since.Add(minReady))
}

package planner

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestDecideIgnoresInputOrder: the informer's stores hand the pods over in no order, and a pass orders only each
// node's own pods, so every order of the same pods must give the same plan and status.
func TestDecideIgnoresInputOrder(t *testing.T) {
	tests := []struct {
		name string
		snap Snapshot
	}{
		{
			name: "duplicates on several nodes, a bound pod, a pod of a gone node",
			snap: snapshot(newSet(), nodes("n1", "n2", "n3"),
				pod("c", "n1", newHash, createdAgo(time.Minute)),
				pod("a", "n1", newHash, createdAgo(time.Hour)),
				pod("b", "n1", newHash, createdAgo(time.Hour)),
				pod("pending", "n2", newHash, createdAgo(time.Hour), pending()),
				pod("bound", "n2", newHash, createdAgo(time.Minute)),
				pod("gone", "n9", newHash)),
		},
		{
			name: "a rollout with surge, old and new pods on the same nodes",
			snap: snapshot(newSet(maxSurge("1"), maxUnavailable("0")), nodes("n1", "n2", "n3", "n4"),
				pod("old-1", "n1", oldHash, createdAgo(time.Hour)),
				pod("new-1", "n1", newHash, createdAgo(time.Minute)),
				pod("old-2", "n2", oldHash, createdAgo(time.Hour)),
				pod("old-3", "n3", oldHash, createdAgo(time.Hour)),
				pod("old-4", "n4", oldHash, createdAgo(time.Hour)),
				pod("new-4", "n4", newHash, createdAgo(time.Minute))),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := Decide(tt.snap)
			shuffle := rand.New(rand.NewPCG(7, 7))
			for i := range 20 {
				s := tt.snap
				s.Pods = slices.Clone(tt.snap.Pods)
				if i == 0 {
					slices.Reverse(s.Pods)
				} else {
					shuffle.Shuffle(len(s.Pods), func(a, b int) { s.Pods[a], s.Pods[b] = s.Pods[b], s.Pods[a] })
				}
				if got := Decide(s); !reflect.DeepEqual(got, want) {
					t.Fatalf("order %d of the pods gave another plan:\ngot  %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

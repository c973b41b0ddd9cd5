package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeOrderSorted(t *testing.T) {
	node := func(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	namesOf := func(nodes []*corev1.Node) []string {
		var out []string
		for _, n := range nodes {
			out = append(out, n.Name)
		}
		return out
	}
	tests := []struct {
		name string
		// passes are the node names each pass lists, in the store's order; every pass must come back sorted.
		passes [][]string
	}{
		{name: "first pass sorts", passes: [][]string{{"c", "a", "b"}}},
		{name: "same names in another order", passes: [][]string{{"c", "a", "b"}, {"b", "c", "a"}, {"a", "b", "c"}}},
		{name: "a node added", passes: [][]string{{"c", "a"}, {"c", "b", "a"}, {"a", "c", "b"}}},
		{name: "a node removed", passes: [][]string{{"c", "a", "b"}, {"c", "a"}, {"a", "c"}}},
		{name: "a node replaced by another name, same count", passes: [][]string{{"c", "a", "b"}, {"c", "d", "a"}, {"d", "a", "c"}}},
		{name: "a name twice (not from a store) is not placed over itself", passes: [][]string{{"b", "a"}, {"a", "a"}}},
		{name: "no nodes, then some", passes: [][]string{{}, {"b", "a"}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var order nodeOrder
			for i, pass := range tt.passes {
				var nodes []*corev1.Node
				for _, name := range pass {
					nodes = append(nodes, node(name))
				}
				got := order.sorted(nodes)
				want := slices.Sorted(slices.Values(pass))
				if !slices.Equal(namesOf(got), want) {
					t.Fatalf("pass %d: got %v, want %v", i, namesOf(got), want)
				}
				for _, n := range got {
					if !slices.Contains(nodes, n) {
						t.Fatalf("pass %d: node %s is not one of this pass's objects", i, n.Name)
					}
				}
			}
		})
	}
}

package controller

import (
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// nodeOrder puts a pass's nodes in name order. The informer's store hands them out in no order, and sorting 1000
// nodes by name on every pass cost more than placing them by the positions the previous pass's sort gave each name
// (a map lookup per node): nodes come and go far less often than passes run. When the names are not exactly the
// previous ones (a node added, removed or replaced under another name) it sorts again and remembers the new
// positions. It holds names only, never the objects, so it cannot hand out a stale node; it is safe for concurrent
// passes.
type nodeOrder struct {
	mu sync.Mutex
	// position is each node name's index in the last sorted list.
	position map[string]int
}

// sorted returns nodes in name order; it may reorder nodes itself, which the caller owns.
func (o *nodeOrder) sorted(nodes []*corev1.Node) []*corev1.Node {
	o.mu.Lock()
	defer o.mu.Unlock()
	if out, ok := o.place(nodes); ok {
		return out
	}
	slices.SortFunc(nodes, func(a, b *corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	o.position = make(map[string]int, len(nodes))
	for i, n := range nodes {
		o.position[n.Name] = i
	}
	return nodes
}

// place puts every node at its remembered position. It succeeds only when the nodes are as many as the remembered
// names and each takes a distinct remembered position, which makes them exactly the remembered names.
func (o *nodeOrder) place(nodes []*corev1.Node) ([]*corev1.Node, bool) {
	if len(nodes) == 0 || len(nodes) != len(o.position) {
		return nil, false
	}
	out := make([]*corev1.Node, len(nodes))
	for _, n := range nodes {
		i, ok := o.position[n.Name]
		if !ok || out[i] != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

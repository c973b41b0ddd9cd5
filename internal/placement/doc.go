// Package placement answers where a NodeAgentSet's pod belongs and builds that pod, without touching the API server.
//
// It holds the node-level rules of an apps/v1 DaemonSet: which nodes should run the set's pod (the template's
// nodeName, nodeSelector and required node affinity, and tolerated NoSchedule/NoExecute taints), which running pods
// may stay (a NoSchedule taint added later does not evict, an untolerated NoExecute taint does), the default
// tolerations every pod gets, which spec.nodeOverrides entry applies to a node and what it changes in the pod, how a
// new pod is pinned to its node through a required node affinity term (the default
// scheduler then binds it), and when a pod counts as ready and available. Every function is pure: the planner and
// the reconciler's event filters share them, and the tests exercise them as plain tables.
package placement

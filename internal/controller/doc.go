// Package controller runs the NodeAgentSet reconciler: it reads the set, nodes, pods and revisions from the
// manager's cache, builds a planner.Snapshot, asks internal/planner for a Plan and carries the plan out (pod creates
// in slow-start batches, deletes, revision bookkeeping, one status write).
//
// The package holds everything with side effects and memory between reconciles: expectations (creates and deletes
// issued but not yet seen in the cache), the per-node failed-pod backoff, the pod writer, and the event handlers that
// map node and pod changes to the sets they can affect. Decisions live in internal/planner, internal/placement and
// internal/revision.
package controller

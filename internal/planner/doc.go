// Package planner decides what a NodeAgentSet's reconcile must do, without doing any of it.
//
// Decide takes a Snapshot (the set, every node, the set's pods and revisions, the time, failure backoff and
// expectations) and returns a Plan: the nodes that need a pod created, the pods to delete, the pods moved to the
// update revision in place (relabelled, when their effective spec is the same under it; see relabel.go), each with
// a reason, the status the set should have, and when to look again. It reads no client, no clock and emits no events; the
// reconciler in internal/controller builds the snapshot from its caches and carries the plan out. Because the
// decision is a pure function, the tables and the rollout sequence simulation in this package's tests exercise the
// same code the controller runs.
package planner

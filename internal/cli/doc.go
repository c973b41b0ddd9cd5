// Package cli is `kubectl nas`, the kubectl plugin for NodeAgentSets: the rollout (status, history, undo, pause,
// resume, restart) and set image commands that kubectl only offers for built-in kinds.
//
// The commands are thin shells: they read flags, fetch the set and its ControllerRevisions, call the pure
// decisions in the subpackages (status, history, describe, edit, objref) and write the result back with a merge
// patch carrying the set's resourceVersion, retried on conflict, so a change lands whole or not at all. Run executes
// a command line in-process, which is how cmd/kubectl-nas and the tests call it.
package cli

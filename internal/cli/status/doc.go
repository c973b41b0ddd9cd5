// Package status decides what `kubectl nas rollout status` says about a NodeAgentSet at one moment, and whether the
// wait is over.
//
// The messages follow `kubectl rollout status` for a DaemonSet, with "nodeagentset" for "daemon set". A NodeAgentSet
// can also be paused or partitioned, states in which a DaemonSet's rollout would simply never finish; Evaluate
// reports them instead of waiting forever:
//
//   - partitioned: once every node outside the partition runs an updated pod and every node's pod is available, the
//     rollout has gone as far as the partition lets it; that is a finished wait (exit 0).
//
//   - paused: while paused with nodes still to update, the rollout cannot finish until it is resumed; that is an
//     error (non-zero exit), so a script gating on the rollout does not pass a half-done update.
//
//   - canary: while the canary runs or waits for `kubectl nas rollout promote`, the wait goes on and the canary's
//     phase and message are printed; a failed canary (Stalled=True, reason CanaryFailed) and an exceeded progress
//     deadline (Stalled=True, reason ProgressDeadlineExceeded) are errors, as kubectl reports a Deployment that
//     exceeded its progress deadline.
//
// Whether the rollout is done, failed or still going is the controller's judgement, read from the set's conditions
// for the observed generation (the same conditions kstatus, Argo CD and the metrics read); the counters only word the
// progress lines. Evaluate reads only the set; the command around it fetches and watches.
package status

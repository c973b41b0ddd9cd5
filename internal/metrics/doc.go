// Package metrics exports the NodeAgentSet controller's own Prometheus metrics: per-set gauges mirroring each set's
// status and a histogram of rollout durations. They are registered with controller-runtime's metrics.Registry, so
// the manager serves them on its metrics endpoint beside controller-runtime's workqueue, reconcile and client
// metrics.
//
// The reconciler calls RecordStatus after every status write, Forget when a set is gone, and ObserveRolloutDuration
// when a rollout completes. Every series carries the set's namespace and name.
package metrics

// Package rollout holds the integration suite for rollouts of a NodeAgentSet, after the upstream DaemonSet e2e
// tests: OnDelete, RollingUpdate bounded by maxUnavailable, surge with minReadySeconds, rollback without needless
// restarts, pause and partition. It runs against a real kube-apiserver, etcd and kube-scheduler.
package rollout

// Package ha holds the integration suite for high availability: two manager processes (the built cmd/ binary) with
// leader election, the leader killed or terminated in the middle of a rolling update, and kube-apiserver stopped
// and restarted under a running manager. The rollout's bounds are checked on every pod watch event throughout. It
// also scrapes a manager process's metrics endpoint with service-account tokens, bound to the shipped metrics-reader
// role or not. It runs against a real kube-apiserver, etcd and kube-scheduler.
package ha

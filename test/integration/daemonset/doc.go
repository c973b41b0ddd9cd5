// Package daemonset holds the integration suite for the DaemonSet contract of a NodeAgentSet: placement, pod
// replacement, adoption and release, revisions and collisions, cascading deletes and status, after the upstream
// DaemonSet integration tests, plus the config/samples manifests. It runs against a real kube-apiserver, etcd,
// kube-scheduler and a kube-controller-manager with the garbage collectors.
package daemonset

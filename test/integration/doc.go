// Package integration groups the Ginkgo suites that run the NodeAgentSet controller against a real kube-apiserver
// and etcd (see test/testcluster): daemonset ports the upstream DaemonSet integration scenarios and checks the
// config/samples manifests, rollout covers the update strategies, rollback, pause and partition.
package integration

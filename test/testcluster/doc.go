// Package testcluster runs a real Kubernetes control plane for the integration suites: etcd and kube-apiserver
// through controller-runtime's envtest, optionally a kube-scheduler (so pods pinned by node affinity are bound as in
// a cluster) and a kube-controller-manager running only the garbage collector and the pod garbage collector (so
// cascading deletes and pods on deleted nodes behave as in a cluster). There is no kubelet: a fake kubelet writes
// pod status through the status subresource, as the upstream integration tests do, and finishes graceful deletions.
//
// A suite starts one Cluster in BeforeSuite and stops it in AfterSuite (Stop also runs from DeferCleanup, and a
// watchdog process kills the children if the test binary dies without cleaning up). Tests share the cluster one
// after another: each works in its own namespace, and Reset removes the sets, pods and nodes a test left behind.
//
// The binaries come from KUBEBUILDER_ASSETS (etcd, kube-apiserver, kube-scheduler, kube-controller-manager), or,
// when that is unset, from the bin/cluster/envtest-* directory that `make cluster-binaries` fills.
package testcluster

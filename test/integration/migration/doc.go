// Package migration tests `kubectl nas migrate` against the real upstream DaemonSet controller
// (kube-controller-manager --controllers=daemonset, with the garbage collector that orphans the DaemonSet's pods):
// a running DaemonSet's pods are handed over to a NodeAgentSet without a restart, also when the migration is
// interrupted and run again.
package migration

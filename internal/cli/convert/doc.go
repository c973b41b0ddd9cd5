// Package convert builds the NodeAgentSet equivalent to an apps/v1 DaemonSet, for `kubectl nas migrate` (from a
// DaemonSet in the cluster) and `kubectl nas convert` (from a manifest, offline). It is pure: no client.
package convert

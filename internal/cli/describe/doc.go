// Package describe renders a pod template as readable text, in the layout of the "Pod Template:" section of
// `kubectl describe` (the layout `kubectl rollout history --revision=N` prints for a DaemonSet revision): labels,
// annotations, init containers, containers with image, ports, command, resources, probes, environment and mounts,
// volumes, node selectors and tolerations.
//
// Every list is printed in a fixed order (map keys sorted, mounts by path) so the same template always prints the
// same text.
package describe

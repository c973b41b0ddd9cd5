// Package e2e replays the walkthroughs of the seed documents (basic set, control-plane tolerations, nodeSelector,
// rolling update and rollback, cascading deletes, a rejected manifest) with NodeAgentSets, kubectl and `kubectl nas`
// against a local simulated cluster (hack/run-local.sh: real control plane, kwok nodes).
//
// The tests carry the build tag e2e: `make test-e2e`, or `go test -tags e2e ./test/e2e/`. The suite starts its own
// cluster (state in a temporary directory, ports from 27000 on) and stops it at the end; with E2E_KUBECONFIG set it
// uses that cluster instead, e.g. one started with `make run-local DETACH=1`, and leaves it running.
package e2e

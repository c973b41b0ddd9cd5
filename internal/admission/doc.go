// Package admission decides what the NodeAgentSet admission webhooks do, as pure functions over the API types.
//
// Default fills the fields a user may leave out (update strategy, rollout bounds, revision history, restart
// policy). Validate and ValidateUpdate return a field.ErrorList in the apiserver's own format, so a rejected
// manifest reads like a rejected DaemonSet: the field path, the value, and what is wrong with it. They apply only
// the rules the CRD schema cannot express (label syntax, selectors against labels, the pod rules for tolerations,
// node affinity and containers, node overrides against the template); the rules on the set's own fields are OpenAPI
// and CEL rules in the CRD (api/v1alpha1), which the apiserver applies first, with or without the webhooks. Each
// rule has one home. Warnings returns the admission warnings for manifests that are accepted but probably not what
// the user meant.
//
// Nothing here does I/O; the controller-runtime webhook shells in internal/webhook/v1alpha1 call these functions
// and turn their results into admission responses. The rules follow the apps/v1 DaemonSet validation upstream,
// re-implemented on the public API types because k8s.io/kubernetes cannot be imported.
package admission

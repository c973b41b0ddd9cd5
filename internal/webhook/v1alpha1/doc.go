// Package v1alpha1 serves the NodeAgentSet admission webhooks: a thin controller-runtime shell around the pure
// defaulting and validation in internal/admission. It decodes nothing itself and decides nothing itself; it hands
// the typed object to internal/admission and turns the field errors into an apiserver-style Invalid status.
package v1alpha1

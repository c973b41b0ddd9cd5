// Package admissiontest holds the NodeAgentSet manifests the admission tests share: a valid base manifest, a table
// of bad manifests with the exact error each produces, and a table of good manifests with the defaults each gets.
// The unit tables in internal/admission run them through the pure functions; the envtest suite in
// internal/webhook/v1alpha1 sends the same manifests through a real apiserver.
package admissiontest

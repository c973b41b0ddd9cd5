// Package helmchart writes the Helm chart charts/nodeagentset from the kustomize install (config/default), so the
// chart installs the same objects and cannot drift from config/: `make manifests` (and its alias `make helm-chart`)
// regenerates it, and a test fails when the committed chart differs from what this package writes.
//
// The objects are rendered with kustomize, then templated: the namespace becomes the release namespace, the
// manager's image, pull policy, replicas, resources and extra flags (log level, API QPS and burst) come from values,
// metrics can be turned off, and the webhook certificate comes either from cert-manager (certManager.enabled, the
// kustomize install's way) or from a self-signed CA the chart generates (genCA, genSignedCert), kept across upgrades.
// The Namespace is left to `helm install --create-namespace`, and the CRD goes to crds/ as Helm installs CRDs.
package helmchart

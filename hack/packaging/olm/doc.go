// Package olm builds an Operator Lifecycle Manager bundle (registry+v1 format) from the rendered kustomize install.
//
// The kustomize install and an OLM install differ in who owns what: OLM creates the service account, the RBAC and
// the Deployment from the ClusterServiceVersion's install strategy, and it issues the webhook certificate and
// creates the webhook Service and configurations from the CSV's webhook definitions. So Build folds those objects
// into the CSV, drops cert-manager's objects and the certificate volume, and ships every other object (the CRD, the
// metrics Service, the PodDisruptionBudget, the user-facing ClusterRoles) as a separate bundle manifest. Build is a
// pure function; Write puts its result on disk.
package olm

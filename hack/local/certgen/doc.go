// Command certgen writes the certificates, keys and kubeconfigs a local cluster (hack/run-local.sh) runs with: a
// cluster CA that signs the kube-apiserver's serving certificate and one client certificate per component, the
// service-account signing key pair, and a separate CA with a serving certificate for the NodeAgentSet webhook server
// that the API server calls on loopback.
//
// Which certificates exist and what they say is decided by plan (pure); main only creates keys, signs and writes.
package main

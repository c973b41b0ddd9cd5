// Command webhookconfig turns the webhook configurations that controller-gen writes (config/webhook/manifests.yaml,
// whose webhooks call an in-cluster Service) into ones that call a NodeAgentSet manager running outside the cluster:
// each webhook's clientConfig becomes a URL on that manager's webhook server plus the CA bundle that signed its
// certificate. hack/run-local.sh applies the result, so the local cluster runs the real admission path.
//
// The rewrite is PointAtURL (pure); main only reads and writes files.
package main

// Package packaging tests what users install: the kustomize install (config/default) rendered and dry-run applied
// to a real API server, the one-file installer, the OLM bundle against operator-framework's validators, the Argo CD
// health check run by the Lua interpreter Argo CD embeds, the kstatus reading of real NodeAgentSet statuses, and
// the manager build as the Dockerfile does it.
package packaging

// Package metricsauth guards the manager's metrics endpoint. A request must carry a bearer token that the API
// server accepts (a TokenReview), and the token's user must be allowed the request's verb on its path as a
// non-resource URL (a SubjectAccessReview), for instance `get` on `/metrics` through the ClusterRole
// nodeagentset-metrics-reader. Anything else is refused: 401 without a token the API server accepts, 403 for a user
// without the permission, 500 when a review cannot be made (nothing is served on an error). A review that fails
// for a reason that may pass is made again on the API server webhooks' schedule, within the request's 10 s.
//
// It stands in for controller-runtime's metrics filter, which needs k8s.io/apiserver and with it CEL, gRPC and
// OpenTelemetry: linking that filter made the manager binary 30 MB larger and its peak resident memory about 15 MiB
// higher (docs/benchmarks.md, "The manager without k8s.io/apiserver"). The rule is the same: the same two reviews, the
// same verb (the request's method in lower case) and path, the same permissions for the manager (create on tokenreviews
// and subjectaccessreviews).
//
// Decisions are remembered for a short while per token, verb and path (a minute for an allowed request, ten seconds
// for a refused one; errors are not remembered), so a scraper costs the API server two reviews a minute at most
// rather than two per scrape. Tokens are kept only as their SHA-256 digests.
package metricsauth

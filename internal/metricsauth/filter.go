package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// reviewer asks the API server who a token belongs to and whether that user may make a non-resource request.
// apiReviewer is the real one; the handler's tables drive a scripted one through outcomes (API errors, say) that a
// real server cannot be made to produce on demand.
type reviewer interface {
	// authenticate returns the token's user, or ok false if the API server does not accept the token.
	authenticate(ctx context.Context, token string) (user authenticationv1.UserInfo, ok bool, err error)
	// authorize reports whether user may use verb on the non-resource URL path, and the authorizer's reason.
	authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (allowed bool, reason string, err error)
}

// FilterProvider is a metricsserver.Options.FilterProvider: it reviews tokens and permissions with the API server
// the manager talks to, through the manager's own HTTP client.
func FilterProvider(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	tokens, err := authenticationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metrics authentication client: %w", err)
	}
	access, err := authorizationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metrics authorization client: %w", err)
	}
	return newFilter(apiReviewer{tokens: tokens.TokenReviews(), access: access.SubjectAccessReviews()}, clock.RealClock{}), nil
}

// newFilter returns the filter for a reviewer and a clock (the decision cache's).
func newFilter(r reviewer, clk clock.PassiveClock) metricsserver.Filter {
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		g := &guard{reviewer: r, decisions: newDecisionCache(clk), log: log, next: next}
		return g, nil
	}
}

// guard is the handler the filter wraps around the metrics endpoint.
type guard struct {
	reviewer  reviewer
	decisions *decisionCache
	log       logr.Logger
	next      http.Handler
}

func (g *guard) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	token, ok := bearerToken(req.Header.Get("Authorization"))
	if !ok {
		refuseUnauthenticated(w)
		return
	}
	verb, path := strings.ToLower(req.Method), req.URL.Path
	key := decisionKey(token, verb, path)
	d, known := g.decisions.get(key)
	if !known {
		var err error
		d, err = g.decide(req.Context(), token, verb, path)
		if err != nil {
			g.log.Error(err, "Reviewing a metrics request failed", "verb", verb, "path", path)
			http.Error(w, "reviewing the request with the API server failed", http.StatusInternalServerError)
			return
		}
		g.decisions.put(key, d)
	}
	switch {
	case !d.authenticated:
		g.log.V(4).Info("Metrics request with a token the API server does not accept", "path", path)
		refuseUnauthenticated(w)
	case !d.allowed:
		g.log.V(4).Info("Metrics request refused", "user", d.user, "verb", verb, "path", path, "reason", d.reason)
		http.Error(w, fmt.Sprintf("user %q may not %s %s", d.user, verb, path), http.StatusForbidden)
	default:
		g.next.ServeHTTP(w, req)
	}
}

// reviewTimeout bounds both reviews of a request together, so a scrape never hangs on an API server that does not
// answer (the scraper tries again at its next interval).
const reviewTimeout = 10 * time.Second

// decide makes the two reviews a request needs (only the first when the token is not accepted).
func (g *guard) decide(ctx context.Context, token, verb, path string) (decision, error) {
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	user, ok, err := g.reviewer.authenticate(ctx, token)
	if err != nil {
		return decision{}, fmt.Errorf("token review: %w", err)
	}
	if !ok {
		return decision{}, nil
	}
	allowed, reason, err := g.reviewer.authorize(ctx, user, verb, path)
	if err != nil {
		return decision{}, fmt.Errorf("subject access review for user %q: %w", user.Username, err)
	}
	return decision{authenticated: true, allowed: allowed, user: user.Username, reason: reason}, nil
}

func refuseUnauthenticated(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="nodeagentset metrics"`)
	http.Error(w, "a bearer token the API server accepts is required", http.StatusUnauthorized)
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header value; the scheme's case does not
// matter, as for the API server's own bearer tokens.
func bearerToken(header string) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// decisionKey identifies a request's decision without keeping its token.
func decisionKey(token, verb, path string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%x %s %s", sum, verb, path)
}

// apiReviewer makes the reviews with the API server.
type apiReviewer struct {
	tokens authenticationclient.TokenReviewInterface
	access authorizationclient.SubjectAccessReviewInterface
}

func (a apiReviewer) authenticate(ctx context.Context, token string) (authenticationv1.UserInfo, bool, error) {
	review, err := a.tokens.Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token},
	}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, false, err
	}
	// A token the API server does not accept (unknown, expired, for another audience) comes back unauthenticated,
	// with the reason in status.error: a refusal, not a failure.
	return review.Status.User, review.Status.Authenticated, nil
}

func (a apiReviewer) authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review, err := a.access.Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  user.Username,
			UID:                   user.UID,
			Groups:                user.Groups,
			Extra:                 extra,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	reason := review.Status.Reason
	if reason == "" {
		reason = review.Status.EvaluationError
	}
	return review.Status.Allowed, reason, nil
}

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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
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
	return newFilter(apiReviewer{tokens: tokens.TokenReviews(), access: access.SubjectAccessReviews()}, clock.RealClock{}, pauseFor), nil
}

// newFilter returns the filter for a reviewer, a clock (the decision cache's) and the wait between attempts at a
// review.
func newFilter(r reviewer, clk clock.PassiveClock, pause pauseFunc) metricsserver.Filter {
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		g := &guard{reviewer: r, decisions: newDecisionCache(clk), pause: pause, log: log, next: next}
		return g, nil
	}
}

// guard is the handler the filter wraps around the metrics endpoint.
type guard struct {
	reviewer  reviewer
	decisions *decisionCache
	pause     pauseFunc
	log       logr.Logger
	next      http.Handler
}

// pauseFunc waits d, or returns the context's error if it ends first.
type pauseFunc func(ctx context.Context, d time.Duration) error

func pauseFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// reviewTimeout bounds both reviews of a request together, retries included, so a scrape never hangs on an API
// server that does not answer (the scraper tries again at its next interval).
const reviewTimeout = 10 * time.Second

// reviewBackoff spaces the attempts at a review that failed for a reason that may pass: the schedule the API
// server's own token and access webhooks use, and controller-runtime's metrics filter with them (half a second,
// growing by half each time, jittered by a fifth, five attempts in all; about 4 s of waiting, within
// reviewTimeout).
var reviewBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// transient reports whether a review's error may pass on its own, as the API server's webhooks judge it: a
// connection reset or an HTTP/2 connection lost, an internal error, a timeout, too many requests, or an answer that
// asks to be retried later. Anything else (the manager lacking the permission to review, say) is answered at once.
func transient(err error) bool {
	if utilnet.IsConnectionReset(err) || utilnet.IsHTTP2ConnectionLost(err) || apierrors.IsInternalError(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) {
		return true
	}
	_, retryLater := apierrors.SuggestsClientDelay(err)
	return retryLater
}

// withRetries makes a review, and again after reviewBackoff's waits while it fails transiently, until it succeeds,
// fails otherwise, runs out of attempts or out of the context's time; the error is the last attempt's.
func (g *guard) withRetries(ctx context.Context, review func() error) error {
	backoff := reviewBackoff
	for {
		err := review()
		if err == nil || !transient(err) || backoff.Steps <= 1 {
			return err
		}
		if g.pause(ctx, backoff.Step()) != nil {
			return err
		}
	}
}

// decide makes the two reviews a request needs (only the first when the token is not accepted).
func (g *guard) decide(ctx context.Context, token, verb, path string) (decision, error) {
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	var (
		user authenticationv1.UserInfo
		ok   bool
	)
	err := g.withRetries(ctx, func() (err error) {
		user, ok, err = g.reviewer.authenticate(ctx, token)
		return err
	})
	if err != nil {
		return decision{}, fmt.Errorf("token review: %w", err)
	}
	if !ok {
		return decision{}, nil
	}
	var (
		allowed bool
		reason  string
	)
	err = g.withRetries(ctx, func() (err error) {
		allowed, reason, err = g.reviewer.authorize(ctx, user, verb, path)
		return err
	})
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

package metricsauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
)

// scriptedReviewer answers reviews from tables and counts them. The real reviews are made against a real API server
// in the ha integration suite ("the metrics endpoint"); here the handler is driven through every answer, including
// the review errors a real server cannot be made to return on demand.
type scriptedReviewer struct {
	users       map[string]authenticationv1.UserInfo // token → user; a token not here is not accepted
	allowed     map[string]bool                      // "user verb path" → allowed
	authnErr    error
	authzErr    error
	authnFails  int // how many token reviews fail with authnErr before the rest succeed; 0: all of them
	authzFails  int // the same for access reviews and authzErr
	authns      int
	authzs      int
	lastAuthzAt string // the "user groups verb path" of the last authorization review
	unbounded   int    // reviews asked without a deadline within reviewTimeout
}

func (s *scriptedReviewer) checkDeadline(ctx context.Context) {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > reviewTimeout {
		s.unbounded++
	}
}

func (s *scriptedReviewer) authenticate(ctx context.Context, token string) (authenticationv1.UserInfo, bool, error) {
	s.authns++
	s.checkDeadline(ctx)
	if s.authnErr != nil && (s.authnFails == 0 || s.authns <= s.authnFails) {
		return authenticationv1.UserInfo{}, false, s.authnErr
	}
	u, ok := s.users[token]
	return u, ok, nil
}

func (s *scriptedReviewer) authorize(ctx context.Context, u authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	s.authzs++
	s.checkDeadline(ctx)
	s.lastAuthzAt = fmt.Sprintf("%s %v %s %s", u.Username, u.Groups, verb, path)
	if s.authzErr != nil && (s.authzFails == 0 || s.authzs <= s.authzFails) {
		return false, "", s.authzErr
	}
	if s.allowed[u.Username+" "+verb+" "+path] {
		return true, "bound", nil
	}
	return false, "no binding", nil
}

func newScripted() *scriptedReviewer {
	return &scriptedReviewer{
		users: map[string]authenticationv1.UserInfo{
			"reader-token":   {Username: "system:serviceaccount:monitoring:prometheus", Groups: []string{"system:serviceaccounts"}},
			"stranger-token": {Username: "system:serviceaccount:default:stranger", Groups: []string{"system:serviceaccounts"}},
		},
		allowed: map[string]bool{"system:serviceaccount:monitoring:prometheus get /metrics": true},
	}
}

// served is the wrapped handler's answer, so a test can tell a request that reached it.
const served = "metrics here"

// recordedPauses stands in for the wait between attempts at a review: it records each wait instead of sleeping,
// and once allowed waits have passed it reports the request's deadline as reached.
type recordedPauses struct {
	waits   []time.Duration
	allowed int // -1: every wait passes
}

func (p *recordedPauses) pause(_ context.Context, d time.Duration) error {
	p.waits = append(p.waits, d)
	if p.allowed >= 0 && len(p.waits) > p.allowed {
		return context.DeadlineExceeded
	}
	return nil
}

func newGuarded(t *testing.T, r reviewer, clk *clocktesting.FakePassiveClock) http.Handler {
	t.Helper()
	return newGuardedPausing(t, r, clk, &recordedPauses{allowed: -1})
}

func newGuardedPausing(t *testing.T, r reviewer, clk *clocktesting.FakePassiveClock, p *recordedPauses) http.Handler {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, served) })
	h, err := newFilter(r, clk, p.pause)(logr.Discard(), next)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestGuard(t *testing.T) {
	boom := errors.New("connection refused")
	cases := []struct {
		name          string
		method, path  string
		authorization string
		authnErr      error
		authzErr      error
		wantCode      int
		wantBody      string // a substring of the body
		wantAuthns    int
		wantAuthzs    int
		wantAuthzAt   string
	}{
		{name: "no Authorization header", method: "GET", path: "/metrics", wantCode: 401},
		{name: "another scheme", method: "GET", path: "/metrics", authorization: "Basic cmVhZGVyOnB3", wantCode: 401},
		{name: "bearer without a token", method: "GET", path: "/metrics", authorization: "Bearer   ", wantCode: 401},
		{name: "a token the API server does not accept", method: "GET", path: "/metrics",
			authorization: "Bearer forged", wantCode: 401, wantAuthns: 1},
		{name: "a user without the permission", method: "GET", path: "/metrics",
			authorization: "Bearer stranger-token", wantCode: 403,
			wantBody: `user "system:serviceaccount:default:stranger" may not get /metrics`, wantAuthns: 1, wantAuthzs: 1,
			wantAuthzAt: "system:serviceaccount:default:stranger [system:serviceaccounts] get /metrics"},
		{name: "a user with the permission", method: "GET", path: "/metrics",
			authorization: "Bearer reader-token", wantCode: 200, wantBody: served, wantAuthns: 1, wantAuthzs: 1,
			wantAuthzAt: "system:serviceaccount:monitoring:prometheus [system:serviceaccounts] get /metrics"},
		{name: "the scheme in any case", method: "GET", path: "/metrics",
			authorization: "bearer reader-token", wantCode: 200, wantBody: served, wantAuthns: 1, wantAuthzs: 1},
		{name: "the verb is the method in lower case", method: "POST", path: "/metrics",
			authorization: "Bearer reader-token", wantCode: 403, wantAuthns: 1, wantAuthzs: 1,
			wantAuthzAt: "system:serviceaccount:monitoring:prometheus [system:serviceaccounts] post /metrics"},
		{name: "the permission is per path", method: "GET", path: "/debug/pprof/",
			authorization: "Bearer reader-token", wantCode: 403, wantAuthns: 1, wantAuthzs: 1},
		{name: "the token review fails", method: "GET", path: "/metrics",
			authorization: "Bearer reader-token", authnErr: boom, wantCode: 500, wantAuthns: 1},
		{name: "the access review fails", method: "GET", path: "/metrics",
			authorization: "Bearer reader-token", authzErr: boom, wantCode: 500, wantAuthns: 1, wantAuthzs: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newScripted()
			r.authnErr, r.authzErr = tc.authnErr, tc.authzErr
			h := newGuarded(t, r, clocktesting.NewFakePassiveClock(time.Unix(0, 0)))
			rec := do(h, tc.method, tc.path, tc.authorization)
			if rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d (body %q)", rec.Code, tc.wantCode, rec.Body.String())
			}
			if (rec.Code == 200) != strings.Contains(rec.Body.String(), served) {
				t.Errorf("body %q: served must go with 200 and only with it", rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tc.wantBody)
			}
			if rec.Code == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("a 401 without a Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
			}
			if r.authns != tc.wantAuthns || r.authzs != tc.wantAuthzs {
				t.Errorf("reviews: %d token, %d access; want %d and %d", r.authns, r.authzs, tc.wantAuthns, tc.wantAuthzs)
			}
			if r.unbounded > 0 {
				t.Errorf("%d reviews without a deadline within %s", r.unbounded, reviewTimeout)
			}
			if tc.wantAuthzAt != "" && r.lastAuthzAt != tc.wantAuthzAt {
				t.Errorf("access review for %q, want %q", r.lastAuthzAt, tc.wantAuthzAt)
			}
		})
	}
}

// TestGuardRemembersDecisions: a decision stands for allowedFor or refusedFor, per token, verb and path; an error
// is not remembered.
func TestGuardRemembersDecisions(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Unix(1000, 0))
	r := newScripted()
	h := newGuarded(t, r, clk)
	step := func(what, auth, path string, wantCode, wantAuthns int) {
		t.Helper()
		if rec := do(h, "GET", path, auth); rec.Code != wantCode {
			t.Errorf("%s: status %d, want %d", what, rec.Code, wantCode)
		}
		if r.authns != wantAuthns {
			t.Errorf("%s: %d token reviews in all, want %d", what, r.authns, wantAuthns)
		}
	}

	step("first scrape", "Bearer reader-token", "/metrics", 200, 1)
	step("second scrape", "Bearer reader-token", "/metrics", 200, 1)
	step("another path is its own decision", "Bearer reader-token", "/other", 403, 2)
	clk.SetTime(clk.Now().Add(allowedFor - time.Second))
	step("just before the allowed decision expires", "Bearer reader-token", "/metrics", 200, 2)
	clk.SetTime(clk.Now().Add(time.Second))
	step("once it has expired", "Bearer reader-token", "/metrics", 200, 3)

	step("a refused token", "Bearer forged", "/metrics", 401, 4)
	step("the refusal stands", "Bearer forged", "/metrics", 401, 4)
	clk.SetTime(clk.Now().Add(refusedFor))
	step("until refusedFor has passed", "Bearer forged", "/metrics", 401, 5)

	r.authnErr = errors.New("timeout")
	step("a failed review", "Bearer stranger-token", "/metrics", 500, 6)
	r.authnErr = nil
	step("is not remembered", "Bearer stranger-token", "/metrics", 403, 7)

	// The permission granted after a refusal takes effect once the refusal expires.
	r.allowed["system:serviceaccount:default:stranger get /metrics"] = true
	step("granted, refusal still standing", "Bearer stranger-token", "/metrics", 403, 7)
	clk.SetTime(clk.Now().Add(refusedFor))
	step("granted, refusal expired", "Bearer stranger-token", "/metrics", 200, 8)
}

func TestDecisionCacheBound(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Unix(0, 0))
	c := newDecisionCache(clk)
	allowed := decision{authenticated: true, allowed: true}
	for i := range maxDecisions {
		c.put(fmt.Sprint(i), allowed)
	}
	if len(c.byKey) != maxDecisions {
		t.Fatalf("%d decisions, want %d", len(c.byKey), maxDecisions)
	}
	c.put("0", allowed) // replacing one keeps the rest
	if len(c.byKey) != maxDecisions {
		t.Fatalf("after replacing: %d decisions, want %d", len(c.byKey), maxDecisions)
	}
	c.put("full, none expired", allowed)
	if len(c.byKey) != 1 {
		t.Fatalf("full with nothing expired: %d decisions kept, want only the new one", len(c.byKey))
	}
	for i := range maxDecisions - 2 {
		c.put(fmt.Sprint(i), decision{}) // refusals, expiring first
	}
	clk.SetTime(clk.Now().Add(refusedFor))
	c.put("kept", allowed)
	c.put("new", allowed)
	for _, k := range []string{"full, none expired", "kept", "new"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%q was dropped with the expired ones", k)
		}
	}
	if len(c.byKey) != 3 {
		t.Errorf("%d decisions after dropping the expired, want 3", len(c.byKey))
	}
}

// TestGuardRetriesTransientFailures: a review that fails for a reason that may pass is made again after
// reviewBackoff's waits, up to its attempts and within the request's deadline; any other failure is answered at once.
func TestGuardRetriesTransientFailures(t *testing.T) {
	reviews := schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}
	cases := []struct {
		name                   string
		authnErr, authzErr     error
		authnFails, authzFails int
		allowedPauses          int // -1: all
		wantCode               int
		wantAuthns, wantAuthzs int
		wantPauses             int
	}{
		{name: "an internal error twice, then an answer", authnErr: apierrors.NewInternalError(errors.New("etcd leader changed")),
			authnFails: 2, allowedPauses: -1, wantCode: 200, wantAuthns: 3, wantAuthzs: 1, wantPauses: 2},
		{name: "an access review asked to come back later", authzErr: apierrors.NewTooManyRequests("slow down", 1),
			authzFails: 1, allowedPauses: -1, wantCode: 200, wantAuthns: 1, wantAuthzs: 2, wantPauses: 1},
		{name: "a server timeout on every attempt", authnErr: apierrors.NewServerTimeout(reviews, "create", 1),
			allowedPauses: -1, wantCode: 500, wantAuthns: 5, wantPauses: 4},
		{name: "a connection reset, and the deadline reached while waiting", authnErr: syscall.ECONNRESET,
			allowedPauses: 1, wantCode: 500, wantAuthns: 2, wantPauses: 2},
		{name: "the manager may not review tokens", authnErr: apierrors.NewForbidden(reviews, "", errors.New("RBAC")),
			allowedPauses: -1, wantCode: 500, wantAuthns: 1},
		{name: "an error that is not the API server's", authnErr: errors.New("x509: certificate signed by unknown authority"),
			allowedPauses: -1, wantCode: 500, wantAuthns: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newScripted()
			r.authnErr, r.authzErr, r.authnFails, r.authzFails = tc.authnErr, tc.authzErr, tc.authnFails, tc.authzFails
			p := &recordedPauses{allowed: tc.allowedPauses}
			h := newGuardedPausing(t, r, clocktesting.NewFakePassiveClock(time.Unix(0, 0)), p)
			if rec := do(h, "GET", "/metrics", "Bearer reader-token"); rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d (body %q)", rec.Code, tc.wantCode, rec.Body.String())
			}
			if r.authns != tc.wantAuthns || r.authzs != tc.wantAuthzs {
				t.Errorf("reviews: %d token, %d access; want %d and %d", r.authns, r.authzs, tc.wantAuthns, tc.wantAuthzs)
			}
			if len(p.waits) != tc.wantPauses {
				t.Fatalf("%d waits between attempts (%v), want %d", len(p.waits), p.waits, tc.wantPauses)
			}
			// Each wait is reviewBackoff's next step, give or take its jitter (which only lengthens a wait).
			step := reviewBackoff.Duration
			for i, d := range p.waits {
				if d < step || d > time.Duration(float64(step)*(1+reviewBackoff.Jitter)) {
					t.Errorf("wait %d: %v, want %v to %v", i+1, d, step, time.Duration(float64(step)*(1+reviewBackoff.Jitter)))
				}
				step = time.Duration(float64(step) * reviewBackoff.Factor)
			}
		})
	}
}

func TestPauseForEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pauseFor(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("pauseFor on a cancelled context: %v, want %v", err, context.Canceled)
	}
	if err := pauseFor(context.Background(), 0); err != nil {
		t.Errorf("pauseFor 0: %v", err)
	}
}

func TestBearerToken(t *testing.T) {
	cases := map[string]struct {
		token string
		ok    bool
	}{
		"Bearer abc":     {"abc", true},
		"  bearer abc  ": {"abc", true},
		"BEARER a.b.c":   {"a.b.c", true},
		"Bearer":         {"", false},
		"Bearer  ":       {"", false},
		"Token abc":      {"", false},
		"":               {"", false},
	}
	for header, want := range cases {
		token, ok := bearerToken(header)
		if token != want.token || ok != want.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", header, token, ok, want.token, want.ok)
		}
	}
}

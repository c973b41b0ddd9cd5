package metricsauth

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

const (
	// allowedFor is how long an allowed request's decision stands: a token revoked or a binding removed takes
	// effect on the metrics endpoint within this long (controller-runtime's filter caches an accepted token as
	// long).
	allowedFor = time.Minute
	// refusedFor is how long a refusal stands, short so that a scraper just granted access gets in soon, long
	// enough that one retrying a bad token does not make two reviews per request.
	refusedFor = 10 * time.Second
	// maxDecisions bounds the cache: past it, expired decisions are dropped, and if none has expired, all are.
	maxDecisions = 1024
)

// decision is what the reviews said about a token, verb and path.
type decision struct {
	authenticated bool
	allowed       bool
	user          string // the token's user name, for the refusal's message
	reason        string // the authorizer's reason for a refusal, for the log
}

type cachedDecision struct {
	decision
	expires time.Time
}

// decisionCache remembers decisions for allowedFor or refusedFor. It is safe for concurrent requests.
type decisionCache struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	byKey map[string]cachedDecision
}

func newDecisionCache(clk clock.PassiveClock) *decisionCache {
	return &decisionCache{clock: clk, byKey: map[string]cachedDecision{}}
}

func (c *decisionCache) get(key string) (decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.byKey[key]
	if !ok || !c.clock.Now().Before(d.expires) {
		return decision{}, false
	}
	return d.decision, true
}

func (c *decisionCache) put(key string, d decision) {
	now := c.clock.Now()
	ttl := refusedFor
	if d.authenticated && d.allowed {
		ttl = allowedFor
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, replacing := c.byKey[key]; !replacing && len(c.byKey) >= maxDecisions {
		for k, old := range c.byKey {
			if !now.Before(old.expires) {
				delete(c.byKey, k)
			}
		}
		if len(c.byKey) >= maxDecisions {
			clear(c.byKey)
		}
	}
	c.byKey[key] = cachedDecision{decision: d, expires: now.Add(ttl)}
}

package controller

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodWriter is the reconciler's only way to create, change and delete pods, so tests can count, slow down or fail
// writes.
type PodWriter interface {
	// CreatePod creates pod; on success pod holds the created object.
	CreatePod(ctx context.Context, pod *corev1.Pod) error
	// DeletePod deletes pod, but only the object with pod's UID: a newer pod of the same name is left alone.
	DeletePod(ctx context.Context, pod *corev1.Pod) error
	// PatchPod applies patch to pod; on success pod holds the patched object.
	PatchPod(ctx context.Context, pod *corev1.Pod, patch client.Patch) error
}

// clientsetPodWriter writes pods through client-go's typed core/v1 client, as the upstream DaemonSet controller
// does, rather than through the controller-runtime client: that client's Delete decodes the deleted pod the API
// server returns and converts it to JSON and back into an unstructured object nobody reads, which made a rollout's
// deletes cost more CPU than its creates. The typed client discards a delete's response body, and it speaks
// protobuf, like the controller-runtime client does for pods.
type clientsetPodWriter struct {
	pods corev1client.PodsGetter
	// rate is the writer's rate limiter, watched; nil when the client has none (a negative QPS).
	rate *watchedRateLimiter
}

// newClientsetPodWriter builds the writer on the manager's HTTP client (its connections and TLS). The core/v1
// client gets its own rate limiter from cfg's QPS and burst, as the controller-runtime client has one per resource
// kind, so pod writes get the same share of the client rate limit as before.
func newClientsetPodWriter(cfg *rest.Config, httpClient *http.Client, c clock.PassiveClock) (clientsetPodWriter, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	var rate *watchedRateLimiter
	if limiter := rateLimiterOf(cfg); limiter != nil {
		rate = &watchedRateLimiter{RateLimiter: limiter, clock: c}
		cfg.RateLimiter = rate
	}
	core, err := corev1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return clientsetPodWriter{}, err
	}
	return clientsetPodWriter{pods: core, rate: rate}, nil
}

// rateLimiterOf is the rate limiter client-go would give a client of cfg: cfg's own, or a token bucket of its QPS
// and burst (client-go's defaults for zero values); nil for a negative QPS, which means no limit.
func rateLimiterOf(cfg *rest.Config) flowcontrol.RateLimiter {
	if cfg.RateLimiter != nil {
		return cfg.RateLimiter
	}
	qps, burst := cfg.QPS, cfg.Burst
	if qps < 0 {
		return nil
	}
	if qps == 0 {
		qps = rest.DefaultQPS
	}
	if burst == 0 {
		burst = rest.DefaultBurst
	}
	return flowcontrol.NewTokenBucketRateLimiter(qps, burst)
}

// watchedRateLimiter is a client rate limiter that remembers when a request last had to wait for it. A pass sooner
// is worth its cost only while the writes it would issue can go out at once (see enqueueForFreedSlot); when
// the client's rate is what paces a rollout, it cannot write sooner.
type watchedRateLimiter struct {
	flowcontrol.RateLimiter
	clock clock.PassiveClock
	// lastWait is when a request last found no token (UnixNano); 0 for never.
	lastWait atomic.Int64
}

// Wait takes a token at once if one is free, and otherwise notes the wait and waits as the limiter does.
func (w *watchedRateLimiter) Wait(ctx context.Context) error {
	if w.TryAccept() {
		return nil
	}
	w.lastWait.Store(w.clock.Now().UnixNano())
	return w.RateLimiter.Wait(ctx)
}

// Accept is Wait without a context.
func (w *watchedRateLimiter) Accept() {
	if w.TryAccept() {
		return
	}
	w.lastWait.Store(w.clock.Now().UnixNano())
	w.RateLimiter.Accept()
}

// waitedWithin reports whether a request waited for the limiter in the last d.
func (w *watchedRateLimiter) waitedWithin(d time.Duration) bool {
	if w == nil {
		return false
	}
	last := w.lastWait.Load()
	return last != 0 && w.clock.Now().Sub(time.Unix(0, last)) < d
}

func (w clientsetPodWriter) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	created, err := w.pods.Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	*pod = *created
	return nil
}

func (w clientsetPodWriter) DeletePod(ctx context.Context, pod *corev1.Pod) error {
	uid := pod.UID
	return w.pods.Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

func (w clientsetPodWriter) PatchPod(ctx context.Context, pod *corev1.Pod, patch client.Patch) error {
	body, err := patch.Data(pod)
	if err != nil {
		return err
	}
	patched, err := w.pods.Pods(pod.Namespace).Patch(ctx, pod.Name, patch.Type(), body, metav1.PatchOptions{})
	if err != nil {
		return err
	}
	*pod = *patched
	return nil
}

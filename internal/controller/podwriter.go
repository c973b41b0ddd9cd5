package controller

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
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
}

// newClientsetPodWriter builds the writer on the manager's HTTP client (its connections and TLS). The core/v1
// client gets its own rate limiter from cfg's QPS and burst, as the controller-runtime client has one per resource
// kind, so pod writes get the same share of the client rate limit as before.
func newClientsetPodWriter(cfg *rest.Config, httpClient *http.Client) (clientsetPodWriter, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	core, err := corev1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return clientsetPodWriter{}, err
	}
	return clientsetPodWriter{pods: core}, nil
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

package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
)

// countingPodWriter records creates and never makes the pods visible: the cache lags behind the API server.
type countingPodWriter struct {
	mu      sync.Mutex
	creates map[string]int
}

func (w *countingPodWriter) CreatePod(_ context.Context, pod *corev1.Pod) error {
	node, _ := placement.TargetNodeName(pod)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.creates[node]++
	pod.Name = pod.GenerateName + "x"
	return nil
}

func (w *countingPodWriter) DeletePod(context.Context, *corev1.Pod) error { return nil }

func (w *countingPodWriter) PatchPod(context.Context, *corev1.Pod, client.Patch) error { return nil }

// observeAfterPodList lists from the inner client, then runs onPodList: the informer adds the pod to its store and
// its event handler runs right after the reconciler's List returned without the pod.
type observeAfterPodList struct {
	client.Client
	onPodList func()
}

func (c *observeAfterPodList) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := c.Client.List(ctx, list, opts...)
	if _, ok := list.(*corev1.PodList); ok && c.onPodList != nil {
		c.onPodList()
	}
	return err
}

// An expectation observed between the reconciler's pod List and its Satisfied check must not let the reconciler act
// on the pod list that predates the observation.
//
// This is one of two controller tests that use a fake client rather than the real API server of test/integration: the
// bug needs the informer to deliver the pod event at one exact point inside a pass (after the reconciler listed pods
// from the cache, before it checked its expectations). Against a real API server the informer and the reconcile run
// on their own goroutines and that order cannot be forced, only hoped for, so the race would go untested; here the
// wrapped client's List runs the event handler at exactly that point every time.
func TestExpectationObservedAfterPodListDoesNotDuplicateCreate(t *testing.T) {
	scheme := testScheme(t)
	set := &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent", UID: "set-uid", Generation: 1},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "busybox"}}},
			},
		},
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	inner := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(set, node).
		WithStatusSubresource(&v1alpha1.NodeAgentSet{}).
		WithIndex(&corev1.Pod{}, ownerIndex, indexByController).
		WithIndex(&appsv1.ControllerRevision{}, ownerIndex, indexByController).
		Build()
	wrapped := &observeAfterPodList{Client: inner}
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	writer := &countingPodWriter{creates: map[string]int{}}
	r := &NodeAgentSetReconciler{
		client:        wrapped,
		apiReader:     inner,
		recorder:      events.NewFakeRecorder(100),
		clock:         clk,
		pods:          writer,
		burstReplicas: defaultBurstReplicas,
		workers:       1,
		expectations:  newExpectations(clk),
		backoff:       newFailedPodBackoff(clk),
		pacer:         newSpacer(clk, defaultPassSpacing),
		statusSpacer:  newSpacer(clk, defaultStatusSpacing),
	}
	key := types.NamespacedName{Namespace: "ns", Name: "agent"}
	req := ctrl.Request{NamespacedName: key}

	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	if writer.creates["n1"] != 1 {
		t.Fatalf("first pass created %d pods on n1, want 1", writer.creates["n1"])
	}

	// Second pass: the pod created above reaches the informer's store and the handler lowers the expectation just
	// after the reconciler listed pods from the store.
	wrapped.onPodList = func() { r.expectations.CreateObserved(key, "n1") }
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatalf("second pass: %v", err)
	}
	if got := writer.creates["n1"]; got != 1 {
		t.Errorf("n1 got %d pod creates, want 1: the pass acted on a pod list older than the expectation it saw satisfied", got)
	}
}

// testScheme knows the built-in kinds and NodeAgentSets, for the fake clients of this package's tests.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

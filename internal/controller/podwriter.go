package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
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

// clientPodWriter writes pods through a controller-runtime client.
type clientPodWriter struct {
	client client.Client
}

func (w clientPodWriter) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	return w.client.Create(ctx, pod)
}

func (w clientPodWriter) DeletePod(ctx context.Context, pod *corev1.Pod) error {
	uid := pod.UID
	return w.client.Delete(ctx, pod, client.Preconditions{UID: &uid})
}

func (w clientPodWriter) PatchPod(ctx context.Context, pod *corev1.Pod, patch client.Patch) error {
	return w.client.Patch(ctx, pod, patch)
}

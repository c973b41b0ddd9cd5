package testcluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// RunningReadyStatus is the status a kubelet reports for a pod whose containers all started and pass readiness:
// phase Running, every condition True, init containers completed and sidecars (init containers with restartPolicy
// Always) running and ready. The Ready condition's transition time is now, which is what minReadySeconds counts
// from.
func RunningReadyStatus(pod *corev1.Pod, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now)
	status := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		StartTime: &t,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: scheduledTime(pod, t)},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: t},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
		},
	}
	started := true
	running := func(ctr corev1.Container) corev1.ContainerStatus {
		return corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: fakeImageID(ctr.Image), ContainerID: fakeContainerID(pod, ctr.Name, 0),
			Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}},
		}
	}
	for _, ic := range pod.Spec.InitContainers {
		if isSidecar(ic) {
			status.InitContainerStatuses = append(status.InitContainerStatuses, running(ic))
			continue
		}
		status.InitContainerStatuses = append(status.InitContainerStatuses, corev1.ContainerStatus{
			Name: ic.Name, Image: ic.Image, ImageID: fakeImageID(ic.Image), ContainerID: fakeContainerID(pod, ic.Name, 0),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: t, FinishedAt: t,
			}},
		})
	}
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, running(ctr))
	}
	return status
}

// isSidecar reports whether the init container c keeps running beside the pod's containers (restartPolicy Always).
func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// CrashLoopingStatus is the status of a pod whose containers keep exiting: phase Running, not ready, each container
// waiting in CrashLoopBackOff after restarts failed attempts.
func CrashLoopingStatus(pod *corev1.Pod, now time.Time, restarts int32) corev1.PodStatus {
	t := metav1.NewTime(now)
	status := corev1.PodStatus{
		Phase:      corev1.PodRunning,
		StartTime:  &t,
		Conditions: containersNotReady(pod, t),
	}
	started := false
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: fakeImageID(ctr.Image), ContainerID: fakeContainerID(pod, ctr.Name, restarts),
			Ready: false, Started: &started, RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: "back-off restarting failed container " + ctr.Name,
			}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", StartedAt: t, FinishedAt: t,
			}},
		})
	}
	return status
}

// containersNotReady are the conditions of a scheduled, initialized pod whose containers are not ready.
func containersNotReady(pod *corev1.Pod, t metav1.Time) []corev1.PodCondition {
	return []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: scheduledTime(pod, t)},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: t},
		{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, LastTransitionTime: t, Reason: "ContainersNotReady"},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: t, Reason: "ContainersNotReady"},
	}
}

// ImagePullFailingStatus is the status of a pod whose images cannot be pulled: phase Pending, not ready, each
// container waiting in ImagePullBackOff, none ever created (no container or image ID, restart count 0).
func ImagePullFailingStatus(pod *corev1.Pod, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now)
	status := corev1.PodStatus{
		Phase:      corev1.PodPending,
		Conditions: containersNotReady(pod, t),
	}
	started := false
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, Started: &started,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: imagePullBackOff, Message: "Back-off pulling image " + ctr.Image,
			}},
		})
	}
	return status
}

const imagePullBackOff = "ImagePullBackOff"

// showsImagePullFailing reports whether pod's status already says that its containers' current images cannot be
// pulled.
func showsImagePullFailing(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodPending || len(pod.Status.ContainerStatuses) != len(pod.Spec.Containers) {
		return false
	}
	for i, cs := range pod.Status.ContainerStatuses {
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != imagePullBackOff || cs.Image != pod.Spec.Containers[i].Image {
			return false
		}
	}
	return true
}

// TerminalStatus is the status of a pod that ended: phase Failed (containers exited 1) or Succeeded (exited 0).
func TerminalStatus(pod *corev1.Pod, phase corev1.PodPhase, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now)
	exitCode, reason := int32(0), "Completed"
	if phase == corev1.PodFailed {
		exitCode, reason = 1, "Error"
	}
	status := *pod.Status.DeepCopy()
	status.Phase = phase
	status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: scheduledTime(pod, t)},
		{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, LastTransitionTime: t, Reason: "PodCompleted"},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: t, Reason: "PodCompleted"},
	}
	status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: fakeImageID(ctr.Image), ContainerID: fakeContainerID(pod, ctr.Name, 0),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exitCode, Reason: reason, StartedAt: t, FinishedAt: t,
			}},
		})
	}
	return status
}

func scheduledTime(pod *corev1.Pod, fallback metav1.Time) metav1.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime
		}
	}
	return fallback
}

func fakeImageID(image string) string { return "fake-registry/" + image + "@sha256:0" }

// fakeContainerID names the container instance: a restart creates another container, with another ID.
func fakeContainerID(pod *corev1.Pod, container string, restarts int32) string {
	return fmt.Sprintf("fake://%s/%s/%d", pod.UID, container, restarts)
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ReadySince is when the pod's Ready condition last became True, and false when it is not ready.
func ReadySince(pod *corev1.Pod) (time.Time, bool) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// MarkPodReady writes RunningReadyStatus for the pod through the status subresource, as a kubelet would.
func (c *Cluster) MarkPodReady(ctx context.Context, namespace, name string) error {
	return c.writePodStatus(ctx, namespace, name, func(p *corev1.Pod) corev1.PodStatus {
		return RunningReadyStatus(p, time.Now())
	})
}

// MarkPodCrashLooping writes CrashLoopingStatus for the pod.
func (c *Cluster) MarkPodCrashLooping(ctx context.Context, namespace, name string) error {
	return c.writePodStatus(ctx, namespace, name, func(p *corev1.Pod) corev1.PodStatus {
		return CrashLoopingStatus(p, time.Now(), 3)
	})
}

// SetPodPhase ends the pod with phase Failed or Succeeded.
func (c *Cluster) SetPodPhase(ctx context.Context, namespace, name string, phase corev1.PodPhase) error {
	if phase != corev1.PodFailed && phase != corev1.PodSucceeded {
		return fmt.Errorf("SetPodPhase: phase %q is not terminal (want Failed or Succeeded)", phase)
	}
	return c.writePodStatus(ctx, namespace, name, func(p *corev1.Pod) corev1.PodStatus {
		return TerminalStatus(p, phase, time.Now())
	})
}

func (c *Cluster) writePodStatus(ctx context.Context, namespace, name string, status func(*corev1.Pod) corev1.PodStatus) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := &corev1.Pod{}
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod); err != nil {
			return err
		}
		pod.Status = status(pod)
		return c.Client.Status().Update(ctx, pod)
	})
	if err != nil {
		return fmt.Errorf("writing status of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// BindPod binds a pending pod to a node through the pods/binding subresource, as the scheduler does.
func (c *Cluster) BindPod(ctx context.Context, namespace, name, node string) error {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := c.Clientset.CoreV1().Pods(namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding pod %s/%s to node %s: %w", namespace, name, node, err)
	}
	return nil
}

// ForceDeletePod deletes the pod at once (grace period 0), the way a kubelet confirms a pod's termination.
func (c *Cluster) ForceDeletePod(ctx context.Context, namespace, name string, uid types.UID) error {
	opts := []client.DeleteOption{client.GracePeriodSeconds(0)}
	if uid != "" {
		opts = append(opts, client.Preconditions{UID: &uid})
	}
	err := c.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}, opts...)
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// ListPods lists the pods of a namespace, sorted by node name and then pod name.
func (c *Cluster) ListPods(ctx context.Context, namespace string, opts ...client.ListOption) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := c.Client.List(ctx, list, append([]client.ListOption{client.InNamespace(namespace)}, opts...)...); err != nil {
		return nil, fmt.Errorf("listing pods in %s: %w", namespace, err)
	}
	SortPods(list.Items)
	return list.Items, nil
}

// OwnedPods lists the namespace's pods whose controller ownerReference points at owner, sorted by node and name.
func (c *Cluster) OwnedPods(ctx context.Context, namespace string, owner types.UID) ([]corev1.Pod, error) {
	all, err := c.ListPods(ctx, namespace)
	if err != nil {
		return nil, err
	}
	var owned []corev1.Pod
	for _, p := range all {
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == owner {
			owned = append(owned, p)
		}
	}
	return owned, nil
}

// SortPods orders pods by node name, then name.
func SortPods(pods []corev1.Pod) {
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Spec.NodeName != pods[j].Spec.NodeName {
			return pods[i].Spec.NodeName < pods[j].Spec.NodeName
		}
		return pods[i].Name < pods[j].Name
	})
}

// CrashLoopIfImageContains is a KubeletOptions.Outcome under which pods with a container image containing substr
// (say "bad") start but crash-loop and never become ready, and every other pod becomes ready.
func CrashLoopIfImageContains(substr string) func(*corev1.Pod) PodOutcome {
	return func(p *corev1.Pod) PodOutcome {
		for _, ctr := range p.Spec.Containers {
			if strings.Contains(ctr.Image, substr) {
				return PodCrashLoops
			}
		}
		return PodBecomesReady
	}
}

// ImagePullFailsIfImageContains is a KubeletOptions.Outcome under which pods with a container image containing
// substr (say "missing") cannot pull it and stay Pending, and every other pod gets what otherwise says (nil: it
// becomes ready).
func ImagePullFailsIfImageContains(substr string, otherwise func(*corev1.Pod) PodOutcome) func(*corev1.Pod) PodOutcome {
	return func(p *corev1.Pod) PodOutcome {
		for _, ctr := range p.Spec.Containers {
			if strings.Contains(ctr.Image, substr) {
				return PodImagePullFails
			}
		}
		if otherwise == nil {
			return PodBecomesReady
		}
		return otherwise(p)
	}
}

// TargetNode is the node a pod is bound to (spec.nodeName) or, before binding, pinned to by a required node
// affinity term matching metadata.name against a single node; "" when neither.
func TargetNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	if p.Spec.Affinity == nil || p.Spec.Affinity.NodeAffinity == nil ||
		p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, req := range term.MatchFields {
			if req.Key == metav1.ObjectNameField && req.Operator == corev1.NodeSelectorOpIn && len(req.Values) == 1 {
				return req.Values[0]
			}
		}
	}
	return ""
}

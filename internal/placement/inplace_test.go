package placement

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// A pod patched in place is available only once the kubelet reports the changed container started since the patch
// (restart count up, or another container), running and ready, on the new image (the spec's image, or at least
// another image ID than before).
func TestAvailabilityAfterAnInPlacePatch(t *testing.T) {
	ready := metav1.NewTime(time.Unix(1000, 0))
	ranBefore := corev1.ContainerStatus{Name: "agent", Image: "agent:1", ImageID: "sha-1", ContainerID: "c1", RestartCount: 2}
	// The old image could not be pulled: no container was ever created.
	neverStarted := corev1.ContainerStatus{Name: "agent", Image: "agent:1", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}
	patched := func(beforeStatus, status corev1.ContainerStatus, annotationRevision string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: "h2"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:2"}}},
			Status: corev1.PodStatus{
				Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ready}},
				ContainerStatuses: []corev1.ContainerStatus{status},
			},
		}
		before := &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{beforeStatus}}}
		raw, _ := json.Marshal(NewInPlaceUpdateState(before, annotationRevision, map[string]string{"agent": "agent:2"}))
		p.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(raw)}
		return p
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name   string
		before *corev1.ContainerStatus // nil: ranBefore
		status corev1.ContainerStatus
		rev    string
		want   bool
	}{
		{name: "not restarted yet", status: corev1.ContainerStatus{Name: "agent", Image: "agent:1", ImageID: "sha-1",
			ContainerID: "c1", RestartCount: 2, Ready: true, State: running}, rev: "h2"},
		{name: "restarted on the spec's image", status: corev1.ContainerStatus{Name: "agent", Image: "agent:2",
			ImageID: "sha-2", ContainerID: "c2", RestartCount: 3, Ready: true, State: running}, rev: "h2", want: true},
		{name: "restarted, image reported in another spelling but a new image ID", status: corev1.ContainerStatus{
			Name: "agent", Image: "docker.io/library/agent:2", ImageID: "sha-2", ContainerID: "c2", RestartCount: 3,
			Ready: true, State: running}, rev: "h2", want: true},
		{name: "restarted but still the old image (a crash before the patch landed)", status: corev1.ContainerStatus{
			Name: "agent", Image: "agent:1", ImageID: "sha-1", ContainerID: "c2", RestartCount: 3, Ready: true,
			State: running}, rev: "h2"},
		{name: "restarted on the new image, not ready yet", status: corev1.ContainerStatus{Name: "agent", Image: "agent:2",
			ImageID: "sha-2", ContainerID: "c2", RestartCount: 3, State: running}, rev: "h2"},
		{name: "the annotation is about another revision: nothing pending", status: corev1.ContainerStatus{Name: "agent",
			Image: "agent:1", ImageID: "sha-1", ContainerID: "c1", RestartCount: 2, Ready: true, State: running},
			rev: "h1", want: true},
		{name: "never started before the patch, now waiting for the new image", before: &neverStarted,
			status: corev1.ContainerStatus{Name: "agent", Image: "agent:2", State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}, rev: "h2"},
		{name: "never started before the patch, now its first start on the new image (restart count still 0)",
			before: &neverStarted, status: corev1.ContainerStatus{Name: "agent", Image: "agent:2", ImageID: "sha-2",
				ContainerID: "c1", Ready: true, State: running}, rev: "h2", want: true},
		{name: "never started before the patch, then the old image started late: not the new image",
			before: &neverStarted, status: corev1.ContainerStatus{Name: "agent", Image: "docker.io/library/agent:1",
				ImageID: "sha-1", ContainerID: "c1", Ready: true, State: running}, rev: "h2"},
		{name: "never started before the patch, the new image reported normalized",
			before: &neverStarted, status: corev1.ContainerStatus{Name: "agent", Image: "docker.io/library/agent:2",
				ImageID: "sha-2", ContainerID: "c1", Ready: true, State: running}, rev: "h2", want: true},
		// A pod patched before it ever started (no status yet), running without container IDs as kwok's pods do.
		{name: "no status before the patch, now running the new image without a container ID",
			before: &corev1.ContainerStatus{Name: "agent"}, status: corev1.ContainerStatus{Name: "agent", Image: "agent:2",
				ImageID: "kwok://agent:2", Ready: true, State: running}, rev: "h2", want: true},
		{name: "no status before the patch, now running the old image", before: &corev1.ContainerStatus{Name: "agent"},
			status: corev1.ContainerStatus{Name: "agent", Image: "agent:1", ImageID: "kwok://agent:1", Ready: true,
				State: running}, rev: "h2"},
		{name: "a state from before container IDs were recorded: the restart count decides",
			before: &corev1.ContainerStatus{Name: "agent", Image: "agent:1", ImageID: "sha-1", RestartCount: 2},
			status: corev1.ContainerStatus{Name: "agent", Image: "agent:2", ImageID: "sha-2", ContainerID: "c2",
				RestartCount: 2, Ready: true, State: running}, rev: "h2"},
		{name: "already on the new image before the patch: the kubelet has nothing to restart",
			before: &corev1.ContainerStatus{Name: "agent", Image: "agent:2", ImageID: "sha-2", ContainerID: "c1", RestartCount: 2},
			status: corev1.ContainerStatus{Name: "agent", Image: "agent:2", ImageID: "sha-2", ContainerID: "c1",
				RestartCount: 2, Ready: true, State: running}, rev: "h2", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ranBefore
			if tt.before != nil {
				before = *tt.before
			}
			if got := IsPodAvailable(patched(before, tt.status, tt.rev), 0, time.Unix(2000, 0)); got != tt.want {
				t.Errorf("IsPodAvailable = %v, want %v", got, tt.want)
			}
		})
	}
}

// A kubelet kills and starts a changed container in one sync, so a pod without readiness probes can report Ready
// throughout, its transition time from before the patch; minReadySeconds then counts from the container's start.
func TestMinReadySecondsAfterAnInPlacePatch(t *testing.T) {
	readyBefore, restarted := time.Unix(1000, 0), time.Unix(5000, 0)
	before := &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
		{Name: "agent", Image: "agent:1", ImageID: "sha-1", ContainerID: "c1"}}}}
	raw, _ := json.Marshal(NewInPlaceUpdateState(before, "h2", map[string]string{"agent": "agent:2"}))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{v1alpha1.ControllerRevisionHashLabel: "h2"},
			Annotations: map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(raw)},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:2"}}},
		Status: corev1.PodStatus{
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(readyBefore)}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "agent", Image: "agent:2", ImageID: "sha-2",
				ContainerID: "c2", RestartCount: 1, Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(restarted)}}}},
		},
	}
	if since, ok := ReadySince(pod); !ok || !since.Equal(restarted) {
		t.Errorf("ReadySince = %v, %v; want %v, true", since, ok, restarted)
	}
	for _, tt := range []struct {
		after time.Duration
		want  bool
	}{{after: 5 * time.Second}, {after: 10 * time.Second, want: true}} {
		if got := IsPodAvailable(pod, 10, restarted.Add(tt.after)); got != tt.want {
			t.Errorf("%v after the restart, minReadySeconds 10: IsPodAvailable = %v, want %v", tt.after, got, tt.want)
		}
	}
	if at, ok := AvailableAt(pod, 10); !ok || !at.Equal(restarted.Add(10*time.Second)) {
		t.Errorf("AvailableAt = %v, %v; want the restart plus 10 s", at, ok)
	}
	// Without the in-place state (created on its images) the Ready transition is all there is.
	delete(pod.Annotations, v1alpha1.InPlaceUpdateStateAnnotation)
	if since, _ := ReadySince(pod); !since.Equal(readyBefore) {
		t.Errorf("without the annotation ReadySince = %v, want %v", since, readyBefore)
	}
}

func TestRunsImage(t *testing.T) {
	tests := []struct {
		name   string
		status corev1.ContainerStatus
		spec   string
		want   bool
	}{
		{name: "as written", status: corev1.ContainerStatus{Image: "agent:2"}, spec: "agent:2", want: true},
		{name: "a short Docker Hub name, normalized by the runtime",
			status: corev1.ContainerStatus{Image: "docker.io/library/nginx:1.25"}, spec: "nginx:1.25", want: true},
		{name: "no tag is :latest", status: corev1.ContainerStatus{Image: "docker.io/library/nginx:latest"}, spec: "nginx", want: true},
		{name: "another tag", status: corev1.ContainerStatus{Image: "docker.io/library/nginx:1.24"}, spec: "nginx:1.25"},
		{name: "another registry", status: corev1.ContainerStatus{Image: "registry.example/nginx:1.25"}, spec: "nginx:1.25"},
		{name: "pinned by digest, reported by tag with that digest's image ID",
			status: corev1.ContainerStatus{Image: "registry.example/agent:2", ImageID: "registry.example/agent@sha256:" + digestA},
			spec:   "registry.example/agent@sha256:" + digestA, want: true},
		{name: "pinned by digest, another digest running",
			status: corev1.ContainerStatus{Image: "registry.example/agent:2", ImageID: "registry.example/agent@sha256:" + digestB},
			spec:   "registry.example/agent@sha256:" + digestA},
		{name: "unparsable references compare as written", status: corev1.ContainerStatus{Image: "Not An Image"}, spec: "not-an-image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runsImage(&tt.status, tt.spec); got != tt.want {
				t.Errorf("runsImage(%q, %q) = %v, want %v", tt.status.Image, tt.spec, got, tt.want)
			}
		})
	}
}

const (
	digestA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

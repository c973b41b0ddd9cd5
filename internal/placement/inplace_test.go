package placement

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// A pod patched in place is available only once the kubelet reports the changed container restarted (restart count
// up), running and ready, on the new image (the spec's image, or at least another image ID than before).
func TestAvailabilityAfterAnInPlacePatch(t *testing.T) {
	ready := metav1.NewTime(time.Unix(1000, 0))
	patched := func(status corev1.ContainerStatus, annotationRevision string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: "h2"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:2"}}},
			Status: corev1.PodStatus{
				Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ready}},
				ContainerStatuses: []corev1.ContainerStatus{status},
			},
		}
		before := &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
			{Name: "agent", Image: "agent:1", ImageID: "sha-1", RestartCount: 2},
		}}}
		raw, _ := json.Marshal(NewInPlaceUpdateState(before, annotationRevision, map[string]string{"agent": "agent:2"}))
		p.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(raw)}
		return p
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name   string
		status corev1.ContainerStatus
		rev    string
		want   bool
	}{
		{name: "not restarted yet", status: corev1.ContainerStatus{Name: "agent", Image: "agent:1", ImageID: "sha-1",
			RestartCount: 2, Ready: true, State: running}, rev: "h2"},
		{name: "restarted on the spec's image", status: corev1.ContainerStatus{Name: "agent", Image: "agent:2",
			ImageID: "sha-2", RestartCount: 3, Ready: true, State: running}, rev: "h2", want: true},
		{name: "restarted, image reported in another spelling but a new image ID", status: corev1.ContainerStatus{
			Name: "agent", Image: "docker.io/library/agent:2", ImageID: "sha-2", RestartCount: 3, Ready: true, State: running},
			rev: "h2", want: true},
		{name: "restarted but still the old image (a crash before the patch landed)", status: corev1.ContainerStatus{
			Name: "agent", Image: "agent:1", ImageID: "sha-1", RestartCount: 3, Ready: true, State: running}, rev: "h2"},
		{name: "restarted on the new image, not ready yet", status: corev1.ContainerStatus{Name: "agent", Image: "agent:2",
			ImageID: "sha-2", RestartCount: 3, State: running}, rev: "h2"},
		{name: "the annotation is about another revision: nothing pending", status: corev1.ContainerStatus{Name: "agent",
			Image: "agent:1", ImageID: "sha-1", RestartCount: 2, Ready: true, State: running}, rev: "h1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPodAvailable(patched(tt.status, tt.rev), 0, time.Unix(2000, 0)); got != tt.want {
				t.Errorf("IsPodAvailable = %v, want %v", got, tt.want)
			}
		})
	}
}

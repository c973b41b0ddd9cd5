package placement

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestRestartsSinceRevision(t *testing.T) {
	pod := func(hash, state string, restarts ...int32) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: hash}}}
		if state != "" {
			p.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: state}
		}
		for i, r := range restarts {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: []string{"agent", "sidecar"}[i], RestartCount: r})
		}
		return p
	}
	state := `{"revision":"h2","containers":{"agent":{"restartCount":3}}}`
	neverStarted := `{"revision":"h2","containers":{"agent":{"image":"agent:1","restartCount":0}}}`
	tests := []struct {
		name string
		pod  *corev1.Pod
		want int32
	}{
		{"a pod created for its revision counts every restart", pod("h2", "", 2, 1), 3},
		{"the restart an in-place image change caused does not count", pod("h2", state, 4, 0), 0},
		{"restarts after the in-place restart count", pod("h2", state, 6, 1), 3},
		{"not restarted yet: nothing counts", pod("h2", state, 3, 0), 0},
		{"a state for another revision is ignored", pod("h3", state, 4, 0), 4},
		// The image could not be pulled before the patch: its first start on the new image is no restart.
		{"never started before the patch: every restart since counts", pod("h2", neverStarted, 1, 0), 1},
		{"never started before the patch, running since", pod("h2", neverStarted, 0, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RestartsSinceRevision(tt.pod); got != tt.want {
				t.Errorf("RestartsSinceRevision = %d, want %d", got, tt.want)
			}
		})
	}
}

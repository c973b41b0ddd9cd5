package edit

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestParseImageArgs(t *testing.T) {
	cases := []struct {
		name        string
		args        []string
		wantName    string
		wantUpdates []ImageUpdate
		wantErr     string
	}{
		{
			name:        "one update",
			args:        []string{"agent", "app=nginx:1.27"},
			wantName:    "agent",
			wantUpdates: []ImageUpdate{{"app", "nginx:1.27"}},
		},
		{
			name:        "several updates keep their order",
			args:        []string{"nas/agent", "sidecar=busybox:1.37", "app=nginx:1.27"},
			wantName:    "nas/agent",
			wantUpdates: []ImageUpdate{{"sidecar", "busybox:1.37"}, {"app", "nginx:1.27"}},
		},
		{
			name:        "image with a digest keeps everything after the first equals sign",
			args:        []string{"agent", "app=registry.example/app@sha256:abc=="},
			wantName:    "agent",
			wantUpdates: []ImageUpdate{{"app", "registry.example/app@sha256:abc=="}},
		},
		{
			name:        "wildcard alone",
			args:        []string{"agent", "*=registry.k8s.io/pause:3.10"},
			wantName:    "agent",
			wantUpdates: []ImageUpdate{{"*", "registry.k8s.io/pause:3.10"}},
		},
		{name: "no name", args: []string{"app=nginx"}, wantErr: "a NodeAgentSet name is required: kubectl nas set image NAME CONTAINER=IMAGE..."},
		{name: "nothing at all", wantErr: "a NodeAgentSet name is required: kubectl nas set image NAME CONTAINER=IMAGE..."},
		{name: "no update", args: []string{"agent"}, wantErr: "at least one image update is required: CONTAINER=IMAGE"},
		{name: "two names", args: []string{"a", "b", "app=nginx"}, wantErr: "exactly one NodeAgentSet name is expected, got 2: a, b"},
		{name: "name after an update", args: []string{"agent", "app=nginx", "other"}, wantErr: "all resources must be specified before image changes: other"},
		{name: "empty container", args: []string{"agent", "=nginx"}, wantErr: `invalid image update "=nginx": expected CONTAINER=IMAGE, the container name is empty`},
		{name: "empty image", args: []string{"agent", "app="}, wantErr: `invalid image update "app=": expected CONTAINER=IMAGE, the image is empty`},
		{name: "container twice", args: []string{"agent", "app=a", "app=b"}, wantErr: `container "app" is given more than once`},
		{name: "wildcard with others", args: []string{"agent", "*=a", "app=b"}, wantErr: "all containers are already specified by *, but saw more than one container_name=container_image pairs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, updates, err := ParseImageArgs(tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if name != tc.wantName || !reflect.DeepEqual(updates, tc.wantUpdates) {
				t.Errorf("got (%q, %v), want (%q, %v)", name, updates, tc.wantName, tc.wantUpdates)
			}
		})
	}
}

func agentSet() *v1alpha1.NodeAgentSet {
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: v1alpha1.NodeAgentSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "log-machine-id", Image: "busybox:1.36"}},
			Containers:     []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.9"}, {Name: "sidecar", Image: "busybox:1.36"}},
		}}},
	}
}

// images lists init container images, then container images.
func images(set *v1alpha1.NodeAgentSet) []string {
	var out []string
	for _, c := range set.Spec.Template.Spec.InitContainers {
		out = append(out, c.Image)
	}
	for _, c := range set.Spec.Template.Spec.Containers {
		out = append(out, c.Image)
	}
	return out
}

func TestSetImages(t *testing.T) {
	cases := []struct {
		name        string
		updates     []ImageUpdate
		wantImages  []string
		wantChanged bool
		wantErr     string
	}{
		{
			name:        "container",
			updates:     []ImageUpdate{{"pause", "registry.k8s.io/pause:3.10"}},
			wantImages:  []string{"busybox:1.36", "registry.k8s.io/pause:3.10", "busybox:1.36"},
			wantChanged: true,
		},
		{
			name:        "init container",
			updates:     []ImageUpdate{{"log-machine-id", "busybox:1.37"}},
			wantImages:  []string{"busybox:1.37", "registry.k8s.io/pause:3.9", "busybox:1.36"},
			wantChanged: true,
		},
		{
			name:        "wildcard sets every container and init container",
			updates:     []ImageUpdate{{"*", "busybox:1.37"}},
			wantImages:  []string{"busybox:1.37", "busybox:1.37", "busybox:1.37"},
			wantChanged: true,
		},
		{
			name:       "same image changes nothing",
			updates:    []ImageUpdate{{"pause", "registry.k8s.io/pause:3.9"}},
			wantImages: []string{"busybox:1.36", "registry.k8s.io/pause:3.9", "busybox:1.36"},
		},
		{
			name:       "unknown container changes nothing, not even the known ones",
			updates:    []ImageUpdate{{"pause", "registry.k8s.io/pause:3.10"}, {"nginx", "nginx:1.27"}},
			wantImages: []string{"busybox:1.36", "registry.k8s.io/pause:3.9", "busybox:1.36"},
			wantErr:    `unable to find container named "nginx"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := agentSet()
			changed, err := SetImages(set, tc.updates)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %t, want %t", changed, tc.wantChanged)
			}
			if got := images(set); !reflect.DeepEqual(got, tc.wantImages) {
				t.Errorf("images = %v, want %v", got, tc.wantImages)
			}
		})
	}
}

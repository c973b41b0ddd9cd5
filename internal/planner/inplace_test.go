package planner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

func TestImageOnlyChange(t *testing.T) {
	tmpl := func(mutate func(*corev1.PodTemplateSpec)) *corev1.PodTemplateSpec {
		t := &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
			Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "init", Image: "init:1"},
					{Name: "proxy", Image: "proxy:1", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}},
				Containers: []corev1.Container{{Name: "agent", Image: "agent:1"}, {Name: "sidecar", Image: "side:1"}},
			},
		}
		if mutate != nil {
			mutate(t)
		}
		return t
	}
	tests := []struct {
		name   string
		from   *corev1.PodTemplateSpec // nil: tmpl(nil)
		to     *corev1.PodTemplateSpec
		want   map[string]string
		wantOK bool
	}{
		{name: "identical templates are no image change", to: tmpl(nil)},
		{name: "one image", to: tmpl(func(t *corev1.PodTemplateSpec) { t.Spec.Containers[0].Image = "agent:2" }),
			want: map[string]string{"agent": "agent:2"}, wantOK: true},
		{name: "a sidecar's and a container's images, plus template labels and annotations", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.InitContainers[1].Image = "proxy:2"
			t.Spec.Containers[1].Image = "side:2"
			t.Labels["tier"] = "node"
			t.Annotations = map[string]string{"note": "x"}
		}), want: map[string]string{"proxy": "proxy:2", "sidecar": "side:2"}, wantOK: true},
		// The kubelet does not run a completed init container again, so only a new pod would run its new image.
		{name: "an init container's image", to: tmpl(func(t *corev1.PodTemplateSpec) { t.Spec.InitContainers[0].Image = "init:2" })},
		{name: "an init container's and a container's images", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.InitContainers[0].Image = "init:2"
			t.Spec.Containers[0].Image = "agent:2"
		})},
		{name: "an init container made a sidecar, with a new image", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.InitContainers[0].Image = "init:2"
			t.Spec.InitContainers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		})},
		// A pod's imagePullPolicy cannot be patched, and a pod created for :latest would pull Always.
		{name: "a version tag to :latest, the pull policy left to the default", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].Image = "agent:latest"
		})},
		{name: "a version tag to :latest with the pull policy set in both", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].Image = "agent:latest"
			t.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
		}), from: tmpl(func(t *corev1.PodTemplateSpec) { t.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent }),
			want: map[string]string{"agent": "agent:latest"}, wantOK: true},
		{name: "a version tag to a digest", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].Image = "agent@sha256:" + strings.Repeat("0", 64)
		}), want: map[string]string{"agent": "agent@sha256:" + strings.Repeat("0", 64)}, wantOK: true},
		{name: "an image and an env var", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].Image = "agent:2"
			t.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
		})},
		{name: "a renamed container", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers[0].Name, t.Spec.Containers[0].Image = "agent2", "agent:2"
		})},
		{name: "an added container", to: tmpl(func(t *corev1.PodTemplateSpec) {
			t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: "x", Image: "x:1"})
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == nil {
				from = tmpl(nil)
			}
			got, ok := ImageOnlyChange(from, tt.to)
			if ok != tt.wantOK || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ImageOnlyChange = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// inPlaceFixture is a set rolled from agent:1 to the template mutate gives, with real revision data so that the
// planner can compare the two templates.
func inPlaceFixture(t testing.TB, policy v1alpha1.PodUpdatePolicyType, mutate func(*corev1.PodSpec)) (*v1alpha1.NodeAgentSet, []*appsv1.ControllerRevision) {
	t.Helper()
	set := newSet(maxUnavailable("2"), rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.PodUpdatePolicy = policy }))
	set.Spec.Template.Spec.Containers[0].Image = "agent:1"
	oldRev, err := revision.New(set, oldHash, 1)
	if err != nil {
		t.Fatal(err)
	}
	mutate(&set.Spec.Template.Spec)
	newRev, err := revision.New(set, newHash, 2)
	if err != nil {
		t.Fatal(err)
	}
	return set, []*appsv1.ControllerRevision{oldRev, newRev}
}

func withImage(image string, restarts int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{Name: "agent", Image: image}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "agent", Image: image, ImageID: "id://" + image, Ready: true, RestartCount: restarts,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		}}
	}
}

// patchedInPlace is what the reconciler's in-place patch leaves: the new hash and image, the state annotation, and
// a status the kubelet has not updated yet.
func patchedInPlace(p *corev1.Pod) {
	state := placement.NewInPlaceUpdateState(p, newHash, map[string]string{"agent": "agent:2"})
	raw, _ := json.Marshal(state)
	p.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(raw)}
	p.Labels[v1alpha1.ControllerRevisionHashLabel] = newHash
	p.Spec.Containers[0].Image = "agent:2"
}

// pendingInPlaceOnOld is a pod patched in place from agent:0 to the old revision's agent:1 that the kubelet has not
// restarted yet.
func pendingInPlaceOnOld(p *corev1.Pod) {
	p.Status.ContainerStatuses[0].Image, p.Status.ContainerStatuses[0].ImageID = "agent:0", "id://agent:0"
	raw, _ := json.Marshal(placement.NewInPlaceUpdateState(p, oldHash, map[string]string{"agent": "agent:1"}))
	p.Annotations = map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: string(raw)}
}

// restartedOnNewImage is the kubelet's answer: the container restarted on the new image, Ready again just now.
func restartedOnNewImage(p *corev1.Pod) {
	p.Status.ContainerStatuses[0].Image = "agent:2"
	p.Status.ContainerStatuses[0].ImageID = "id://agent:2"
	p.Status.ContainerStatuses[0].RestartCount++
	setReady(p, corev1.ConditionTrue, t0.Add(-time.Second))
}

func planSummary(p Plan) (updates, deletes []string) {
	for _, u := range p.Updates {
		updates = append(updates, fmt.Sprintf("%s:%s:%v", u.Pod.Name, u.Reason, u.Images))
	}
	_, deletes = summary(p)
	sort.Strings(updates)
	return updates, deletes
}

// The in-place rollout: old pods whose revision differs only in the image are patched, at most maxUnavailable at a
// time; a patched pod counts as unavailable until the kubelet restarted it on the new image; anything else, or
// the Recreate policy, deletes.
func TestInPlaceRollingUpdate(t *testing.T) {
	newImage := func(s *corev1.PodSpec) { s.Containers[0].Image = "agent:2" }
	newImageAndEnv := func(s *corev1.PodSpec) {
		s.Containers[0].Image = "agent:2"
		s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
	}
	oldOn := func(n string, opts ...podOpt) *corev1.Pod {
		return pod("old-"+n, n, oldHash, append([]podOpt{withImage("agent:1", 0)}, opts...)...)
	}
	tests := []struct {
		name        string
		policy      v1alpha1.PodUpdatePolicyType
		mutate      func(*corev1.PodSpec)
		pods        []*corev1.Pod
		wantUpdates []string
		wantDeletes []string
		wantAvail   int32
	}{
		{name: "image-only change: two pods patched within maxUnavailable 2", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1"), oldOn("n2"), oldOn("n3"), oldOn("n4")},
			wantUpdates: []string{"old-n1:InPlaceUpdate:map[agent:agent:2]", "old-n2:InPlaceUpdate:map[agent:agent:2]"},
			wantAvail:   4},
		{name: "patched pods not yet restarted use up maxUnavailable", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1", patchedInPlace), oldOn("n2", patchedInPlace), oldOn("n3"), oldOn("n4")},
			wantAvail: 2},
		{name: "one patched pod restarting, the budget not spent: the next is patched", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1", patchedInPlace), oldOn("n2", patchedInPlace, restartedOnNewImage), oldOn("n3", patchedInPlace, restartedOnNewImage), oldOn("n4")},
			wantUpdates: []string{"old-n4:InPlaceUpdate:map[agent:agent:2]"}, wantAvail: 3},
		{name: "restarted pods are available again and the rollout goes on", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1", patchedInPlace, restartedOnNewImage),
				oldOn("n2", patchedInPlace, restartedOnNewImage), oldOn("n3"), oldOn("n4")},
			wantUpdates: []string{"old-n3:InPlaceUpdate:map[agent:agent:2]", "old-n4:InPlaceUpdate:map[agent:agent:2]"},
			wantAvail:   4},
		{name: "a pod still waiting for its last in-place update is recreated, not patched again", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1", pendingInPlaceOnOld), oldOn("n2"), oldOn("n3"), oldOn("n4")},
			wantUpdates: []string{"old-n2:InPlaceUpdate:map[agent:agent:2]"}, wantDeletes: []string{"old-n1:RollingUpdate"},
			wantAvail: 3},
		{name: "a change beyond images recreates", policy: v1alpha1.InPlaceIfPossiblePodUpdatePolicy,
			mutate: newImageAndEnv, pods: []*corev1.Pod{oldOn("n1"), oldOn("n2"), oldOn("n3"), oldOn("n4")},
			wantDeletes: []string{"old-n1:RollingUpdate", "old-n2:RollingUpdate"}, wantAvail: 4},
		{name: "Recreate recreates", policy: v1alpha1.RecreatePodUpdatePolicy,
			mutate: newImage, pods: []*corev1.Pod{oldOn("n1"), oldOn("n2"), oldOn("n3"), oldOn("n4")},
			wantDeletes: []string{"old-n1:RollingUpdate", "old-n2:RollingUpdate"}, wantAvail: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, revs := inPlaceFixture(t, tt.policy, tt.mutate)
			s := snapshot(set, nodes("n1", "n2", "n3", "n4"), tt.pods...)
			s.Revisions, s.UpdateRevision = revs, revs[1]
			plan := Decide(s)
			updates, deletes := planSummary(plan)
			if fmt.Sprint(updates) != fmt.Sprint(tt.wantUpdates) || fmt.Sprint(deletes) != fmt.Sprint(tt.wantDeletes) {
				t.Errorf("updates %v deletes %v; want updates %v deletes %v", updates, deletes, tt.wantUpdates, tt.wantDeletes)
			}
			if len(plan.Creates) != 0 {
				t.Errorf("creates %v, want none", plan.Creates)
			}
			if plan.Status.NumberAvailable != tt.wantAvail {
				t.Errorf("numberAvailable %d, want %d", plan.Status.NumberAvailable, tt.wantAvail)
			}
		})
	}
}

func TestTemplateMetadataChange(t *testing.T) {
	tmpl := func(labels, annotations map[string]string) *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}}
	}
	show := func(c MetadataChange) string {
		var parts []string
		for k, v := range c.Set {
			parts = append(parts, k+"="+v)
		}
		for k, v := range c.Remove {
			parts = append(parts, "-"+k+"("+v+")")
		}
		sort.Strings(parts)
		return fmt.Sprint(parts)
	}
	tests := []struct {
		name                   string
		from, to               *corev1.PodTemplateSpec
		wantLabels, wantAnnots string
	}{
		{name: "the same metadata: nothing",
			from: tmpl(map[string]string{"app": "a"}, nil), to: tmpl(map[string]string{"app": "a"}, map[string]string{}),
			wantLabels: "[]", wantAnnots: "[]"},
		{name: "a label changed, one added, one dropped; an annotation added",
			from:       tmpl(map[string]string{"app": "a", "version": "v1", "tier": "node"}, nil),
			to:         tmpl(map[string]string{"app": "a", "version": "v2", "team": "obs"}, map[string]string{"note": "x"}),
			wantLabels: "[-tier(node) team=obs version=v2]", wantAnnots: "[note=x]"},
		{name: "the controller's own keys are never the template's to change",
			from: tmpl(map[string]string{v1alpha1.ControllerRevisionHashLabel: "h1"},
				map[string]string{v1alpha1.NodeOverrideAnnotation: "a"}),
			to:         tmpl(nil, map[string]string{v1alpha1.InPlaceUpdateStateAnnotation: "{}"}),
			wantLabels: "[]", wantAnnots: "[]"},
		{name: "a cluster-autoscaler opt-out added: pods carry it instead of the default",
			from: tmpl(nil, nil), to: tmpl(nil, map[string]string{v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation: "false"}),
			wantLabels: "[]", wantAnnots: "[" + v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation + "=false]"},
		{name: "the opt-out dropped: back to the default every pod gets",
			from: tmpl(nil, map[string]string{v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation: "false"}), to: tmpl(nil, nil),
			wantLabels: "[]", wantAnnots: "[" + v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation + "=true]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels, annotations := templateMetadataChange(tt.from, tt.to)
			if got := show(labels); got != tt.wantLabels {
				t.Errorf("labels %s, want %s", got, tt.wantLabels)
			}
			if got := show(annotations); got != tt.wantAnnots {
				t.Errorf("annotations %s, want %s", got, tt.wantAnnots)
			}
		})
	}
}

// The in-place patch carries the template's label changes, unless the template no longer matches the selector:
// those labels would take the pod out of its own set.
func TestInPlaceUpdateLabels(t *testing.T) {
	for _, tt := range []struct {
		name       string
		labels     map[string]string
		wantLabels string
	}{
		{name: "a label added", labels: map[string]string{"app": "agent", "version": "v2"}, wantLabels: "map[version:v2]"},
		{name: "a template the selector does not match: images only", labels: map[string]string{"app": "other"},
			wantLabels: "map[]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, revs := inPlaceFixture(t, v1alpha1.InPlaceIfPossiblePodUpdatePolicy, func(s *corev1.PodSpec) {
				s.Containers[0].Image = "agent:2"
			})
			set.Spec.Template.Labels = tt.labels
			newRev, err := revision.New(set, newHash, 2)
			if err != nil {
				t.Fatal(err)
			}
			revs[1] = newRev
			s := snapshot(set, nodes("n1"), pod("old-n1", "n1", oldHash, withImage("agent:1", 0)))
			s.Revisions, s.UpdateRevision = revs, newRev
			plan := Decide(s)
			if len(plan.Updates) != 1 {
				t.Fatalf("updates %v, want one in-place update", plan.Updates)
			}
			u := plan.Updates[0]
			if fmt.Sprint(u.Images) != "map[agent:agent:2]" || fmt.Sprint(u.Labels.Set) != tt.wantLabels || len(u.Labels.Remove) != 0 {
				t.Errorf("images %v, labels %+v; want agent:2 and set %s", u.Images, u.Labels, tt.wantLabels)
			}
		})
	}
}

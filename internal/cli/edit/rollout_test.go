package edit

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func withStrategy(typ v1alpha1.NodeAgentSetUpdateStrategyType, ru *v1alpha1.RollingUpdateNodeAgentSet) *v1alpha1.NodeAgentSet {
	set := agentSet()
	set.Spec.UpdateStrategy = v1alpha1.NodeAgentSetUpdateStrategy{Type: typ, RollingUpdate: ru}
	return set
}

func paused(set *v1alpha1.NodeAgentSet) bool {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	return ru != nil && ru.Paused
}

func TestPauseAndResume(t *testing.T) {
	cases := []struct {
		name       string
		set        *v1alpha1.NodeAgentSet
		edit       func(*v1alpha1.NodeAgentSet) error
		wantPaused bool
		wantErr    string
	}{
		{name: "pause a set with the default strategy", set: withStrategy("", nil), edit: Pause, wantPaused: true},
		{name: "pause a rolling update", set: withStrategy(v1alpha1.RollingUpdateStrategyType, &v1alpha1.RollingUpdateNodeAgentSet{}), edit: Pause, wantPaused: true},
		{
			name: "pause twice", set: withStrategy("", &v1alpha1.RollingUpdateNodeAgentSet{Paused: true}), edit: Pause, wantPaused: true,
			wantErr: `nodeagentsets.apps.nodeagentset.io "agent" is already paused`,
		},
		{
			name: "pause OnDelete", set: withStrategy(v1alpha1.OnDeleteStrategyType, nil), edit: Pause,
			wantErr: `nodeagentsets.apps.nodeagentset.io "agent" cannot be paused: spec.updateStrategy.type is OnDelete, and only a RollingUpdate rollout can be paused`,
		},
		{name: "resume a paused set", set: withStrategy("", &v1alpha1.RollingUpdateNodeAgentSet{Paused: true}), edit: Resume},
		{name: "resume a set that is not paused", set: withStrategy("", &v1alpha1.RollingUpdateNodeAgentSet{}), edit: Resume, wantErr: `nodeagentsets.apps.nodeagentset.io "agent" is not paused`},
		{name: "resume a set without rollingUpdate", set: withStrategy("", nil), edit: Resume, wantErr: `nodeagentsets.apps.nodeagentset.io "agent" is not paused`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.edit(tc.set)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if paused(tc.set) != tc.wantPaused {
				t.Errorf("paused = %t, want %t", paused(tc.set), tc.wantPaused)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	stamp := "2026-03-04T05:06:07Z"
	cases := []struct {
		name      string
		set       *v1alpha1.NodeAgentSet
		wantStamp string
		wantErr   string
	}{
		{name: "stamps the template", set: withStrategy("", nil), wantStamp: stamp},
		{name: "OnDelete sets restart too", set: withStrategy(v1alpha1.OnDeleteStrategyType, nil), wantStamp: stamp},
		{
			name: "paused set is refused", set: withStrategy("", &v1alpha1.RollingUpdateNodeAgentSet{Paused: true}),
			wantErr: `can't restart paused nodeagentsets.apps.nodeagentset.io "agent" (run "kubectl nas rollout resume agent" first)`,
		},
		{
			name: "restart within the same second is refused",
			set: func() *v1alpha1.NodeAgentSet {
				s := withStrategy("", nil)
				s.Spec.Template.Annotations = map[string]string{v1alpha1.RestartedAtAnnotation: stamp}
				return s
			}(),
			wantStamp: stamp,
			wantErr:   `nodeagentsets.apps.nodeagentset.io "agent" was restarted within the past second (nodeagentset.io/restartedAt=2026-03-04T05:06:07Z); wait a second before restarting it again`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Restart(tc.set, now)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if got := tc.set.Spec.Template.Annotations[v1alpha1.RestartedAtAnnotation]; got != tc.wantStamp {
				t.Errorf("restartedAt = %q, want %q", got, tc.wantStamp)
			}
		})
	}
}

func TestRestoreTemplate(t *testing.T) {
	withResources := func(cpu string, labels map[string]string) *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "nginx:1.27",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
			}}},
		}
	}
	cases := []struct {
		name        string
		current     *corev1.PodTemplateSpec
		target      *corev1.PodTemplateSpec
		wantChanged bool
	}{
		{name: "different template is restored", current: withResources("100m", nil), target: withResources("200m", nil), wantChanged: true},
		{name: "equal quantities spelled differently match", current: withResources("1", nil), target: withResources("1000m", nil)},
		{name: "nil and empty labels match", current: withResources("1", nil), target: withResources("1", map[string]string{})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := agentSet()
			set.Spec.Template = *tc.current
			set.Spec.MinReadySeconds = 7
			changed := RestoreTemplate(set, tc.target)
			if changed != tc.wantChanged {
				t.Fatalf("changed = %t, want %t", changed, tc.wantChanged)
			}
			if changed && !TemplateMatches(set, tc.target) {
				t.Errorf("template not restored: %+v", set.Spec.Template)
			}
			if set.Spec.MinReadySeconds != 7 {
				t.Errorf("the rest of the spec changed: minReadySeconds = %d", set.Spec.MinReadySeconds)
			}
		})
	}
}

func TestRestoreChangeCause(t *testing.T) {
	withCause := func(cause string) map[string]string {
		return map[string]string{"owner": "platform", v1alpha1.ChangeCauseAnnotation: cause}
	}
	cases := []struct {
		name       string
		setAnnots  map[string]string
		revAnnots  map[string]string
		wantAnnots map[string]string
	}{
		{
			name:       "the revision's cause replaces the set's",
			setAnnots:  withCause("kubectl nas set image agent app=bad --record=true"),
			revAnnots:  map[string]string{v1alpha1.ChangeCauseAnnotation: "first"},
			wantAnnots: withCause("first"),
		},
		{
			name:       "a revision without a cause removes the set's",
			setAnnots:  withCause("kubectl nas set image agent app=bad --record=true"),
			wantAnnots: map[string]string{"owner": "platform"},
		},
		{
			name:       "a set without annotations gets the revision's cause",
			revAnnots:  map[string]string{v1alpha1.ChangeCauseAnnotation: "first"},
			wantAnnots: map[string]string{v1alpha1.ChangeCauseAnnotation: "first"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := agentSet()
			set.Annotations = tc.setAnnots
			RestoreChangeCause(set, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Annotations: tc.revAnnots}})
			if len(set.Annotations) != len(tc.wantAnnots) {
				t.Fatalf("annotations = %v, want %v", set.Annotations, tc.wantAnnots)
			}
			for k, v := range tc.wantAnnots {
				if set.Annotations[k] != v {
					t.Fatalf("annotations = %v, want %v", set.Annotations, tc.wantAnnots)
				}
			}
		})
	}
}

func TestRestoreRevisionRestoresOverrides(t *testing.T) {
	set := &v1alpha1.NodeAgentSet{}
	set.Spec.Template.Labels = map[string]string{"app": "agent"}
	overrides := []v1alpha1.NodeOverride{{Name: "large", Containers: []v1alpha1.ContainerOverride{{Name: "agent"}}}}
	template := set.Spec.Template.DeepCopy()
	if !RestoreRevision(set, template, overrides) || len(set.Spec.NodeOverrides) != 1 {
		t.Fatalf("restoring overrides: changed nothing or lost them: %+v", set.Spec.NodeOverrides)
	}
	overrides[0].Name = "changed"
	if set.Spec.NodeOverrides[0].Name != "large" {
		t.Error("the set shares the revision's overrides")
	}
	if RestoreRevision(set, template, []v1alpha1.NodeOverride{{Name: "large", Containers: []v1alpha1.ContainerOverride{{Name: "agent"}}}}) {
		t.Error("restoring the same revision reported a change")
	}
	if !RestoreRevision(set, template, nil) || set.Spec.NodeOverrides != nil {
		t.Errorf("a revision without overrides must remove them: %+v", set.Spec.NodeOverrides)
	}
}

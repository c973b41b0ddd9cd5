package placement

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func namePin(nodeName string) *corev1.NodeSelector {
	return &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{
			{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}},
		},
	}}}
}

func TestNewPod(t *testing.T) {
	preferred := []corev1.PreferredSchedulingTerm{{Weight: 1, Preference: corev1.NodeSelectorTerm{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "fast", Operator: corev1.NodeSelectorOpExists}},
	}}}
	podAntiAffinity := &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
		{TopologyKey: "kubernetes.io/hostname"},
	}}

	cases := []struct {
		name         string
		set          *v1alpha1.NodeAgentSet
		wantAffinity *corev1.Affinity
	}{
		{
			"no affinity gets the pin",
			testSet(nil),
			&corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: namePin("n1")}},
		},
		{
			"pin replaces the terms of an OR of zone and node name",
			testSet(func(s *corev1.PodSpec) { s.Affinity = zoneOrNameAffinity("z1", "special") }),
			&corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: namePin("n1")}},
		},
		{
			"pin replaces existing matchFields and keeps preferred terms and pod anti-affinity",
			testSet(func(s *corev1.PodSpec) {
				s.Affinity = &corev1.Affinity{
					NodeAffinity: &corev1.NodeAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
							MatchFields: []corev1.NodeSelectorRequirement{
								{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"n1", "n2"}},
							},
						}}},
						PreferredDuringSchedulingIgnoredDuringExecution: preferred,
					},
					PodAntiAffinity: podAntiAffinity,
				}
			}),
			&corev1.Affinity{
				NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution:  namePin("n1"),
					PreferredDuringSchedulingIgnoredDuringExecution: preferred,
				},
				PodAntiAffinity: podAntiAffinity,
			},
		},
		{
			"node affinity with only preferred terms gets a required pin",
			testSet(func(s *corev1.PodSpec) {
				s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: preferred}}
			}),
			&corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution:  namePin("n1"),
				PreferredDuringSchedulingIgnoredDuringExecution: preferred,
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.set.Spec.Template.Annotations = map[string]string{"note": "kept"}
			before := tc.set.DeepCopy()

			pod := NewPod(tc.set, "n1", "abc123")

			if !reflect.DeepEqual(before, tc.set) {
				t.Fatalf("NewPod modified the set")
			}
			if pod.Namespace != "ops" || pod.GenerateName != "agent-" || pod.Name != "" {
				t.Errorf("namespace/generateName/name = %q/%q/%q, want ops/agent-/empty", pod.Namespace, pod.GenerateName, pod.Name)
			}
			wantLabels := map[string]string{"app": "agent", v1alpha1.ControllerRevisionHashLabel: "abc123"}
			if !reflect.DeepEqual(pod.Labels, wantLabels) {
				t.Errorf("labels = %v, want %v", pod.Labels, wantLabels)
			}
			wantAnnotations := map[string]string{"note": "kept", v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation: "true"}
			if !reflect.DeepEqual(pod.Annotations, wantAnnotations) {
				t.Errorf("annotations = %v, want the template's and cluster-autoscaler's %v", pod.Annotations, wantAnnotations)
			}
			if len(pod.OwnerReferences) != 1 {
				t.Fatalf("ownerReferences = %v, want one", pod.OwnerReferences)
			}
			ref := pod.OwnerReferences[0]
			if ref.APIVersion != "apps.nodeagentset.io/v1alpha1" || ref.Kind != "NodeAgentSet" || ref.Name != "agent" ||
				ref.UID != "set-uid" || ref.Controller == nil || !*ref.Controller ||
				ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
				t.Errorf("ownerReference = %+v, want a blocking controller reference to the set", ref)
			}
			if pod.Spec.NodeName != "" {
				t.Errorf("spec.nodeName = %q, want empty (the scheduler binds)", pod.Spec.NodeName)
			}
			if !reflect.DeepEqual(pod.Spec.Affinity, tc.wantAffinity) {
				t.Errorf("affinity:\n got  %+v\n want %+v", pod.Spec.Affinity, tc.wantAffinity)
			}
			if len(pod.Spec.Tolerations) != len(defaultTolerations) {
				t.Errorf("tolerations = %v, want the %d defaults", pod.Spec.Tolerations, len(defaultTolerations))
			}
			if got, err := TargetNodeName(pod); err != nil || got != "n1" {
				t.Errorf("TargetNodeName(new pod) = %q, %v; want n1", got, err)
			}
			// The pod shares no memory with the set.
			pod.Labels["app"] = "changed"
			pod.Spec.Containers[0].Image = "changed"
			pod.Annotations["note"] = "changed"
			if !reflect.DeepEqual(before, tc.set) {
				t.Fatalf("changing the pod changed the set")
			}
		})
	}
}

func TestNewPodKeepsTemplateAutoscalerOptOut(t *testing.T) {
	set := testSet(nil)
	set.Spec.Template.Annotations = map[string]string{v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation: "false"}
	if got := NewPod(set, "n1", "abc123").Annotations[v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation]; got != "false" {
		t.Errorf("%s = %q, want the template's \"false\"", v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation, got)
	}
	set.Spec.Template.Annotations = nil
	if got := NewPod(set, "n1", "abc123").Annotations[v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation]; got != "true" {
		t.Errorf("%s = %q without template annotations, want \"true\"", v1alpha1.ClusterAutoscalerDaemonSetPodAnnotation, got)
	}
}

func TestNewPodKeepsTemplateNodeName(t *testing.T) {
	set := testSet(func(s *corev1.PodSpec) { s.NodeName = "n1"; s.HostNetwork = true })
	pod := NewPod(set, "n1", "h")
	if pod.Spec.NodeName != "n1" {
		t.Fatalf("spec.nodeName = %q, want the template's n1", pod.Spec.NodeName)
	}
	if len(pod.Spec.Tolerations) != len(defaultTolerations)+1 {
		t.Fatalf("hostNetwork pod tolerations = %v, want defaults plus network-unavailable", pod.Spec.Tolerations)
	}
}

func TestTargetNodeName(t *testing.T) {
	withRequired := func(ns *corev1.NodeSelector) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "p"},
			Spec:       corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: ns}}},
		}
	}
	cases := []struct {
		name    string
		pod     *corev1.Pod
		want    string
		wantErr string
	}{
		{"bound pod", &corev1.Pod{Spec: corev1.PodSpec{NodeName: "n3"}}, "n3", ""},
		{"bound pod wins over affinity", func() *corev1.Pod { p := withRequired(namePin("n1")); p.Spec.NodeName = "n2"; return p }(), "n2", ""},
		{"pending pod pinned by affinity", withRequired(namePin("n1")), "n1", ""},
		{
			"pin in the second term",
			withRequired(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}},
				namePin("n4").NodeSelectorTerms[0],
			}}),
			"n4", "",
		},
		{"no affinity", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "p"}}, "", "spec.nodeName is empty"},
		{
			"no name requirement",
			withRequired(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
				{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}},
			}}),
			"", "no nodeSelectorTerm",
		},
		{
			"two names",
			withRequired(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}},
			}}}),
			"", "want exactly one node name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TargetNodeName(tc.pod)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("TargetNodeName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestPodReadiness(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pod := func(status corev1.ConditionStatus, since time.Time) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)},
		}}}
	}
	cases := []struct {
		name          string
		pod           *corev1.Pod
		minReady      int32
		wantReady     bool
		wantAvailable bool
		wantAt        time.Time
		wantAtOK      bool
	}{
		{"no conditions", &corev1.Pod{}, 0, false, false, time.Time{}, false},
		{"not ready", pod(corev1.ConditionFalse, now.Add(-time.Hour)), 0, false, false, time.Time{}, false},
		{"ready, minReadySeconds 0", pod(corev1.ConditionTrue, now), 0, true, true, time.Time{}, false},
		{"ready long enough", pod(corev1.ConditionTrue, now.Add(-10*time.Second)), 10, true, true, now, true},
		{"ready not long enough", pod(corev1.ConditionTrue, now.Add(-9*time.Second)), 10, true, false, now.Add(time.Second), true},
		{"ready without transition time, minReadySeconds 0", pod(corev1.ConditionTrue, time.Time{}), 0, true, true, time.Time{}, false},
		{"ready without transition time, minReadySeconds 5", pod(corev1.ConditionTrue, time.Time{}), 5, true, false, time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPodReady(tc.pod); got != tc.wantReady {
				t.Errorf("IsPodReady = %v, want %v", got, tc.wantReady)
			}
			if got := IsPodAvailable(tc.pod, tc.minReady, now); got != tc.wantAvailable {
				t.Errorf("IsPodAvailable = %v, want %v", got, tc.wantAvailable)
			}
			at, ok := AvailableAt(tc.pod, tc.minReady)
			if ok != tc.wantAtOK || !at.Equal(tc.wantAt) {
				t.Errorf("AvailableAt = %v, %v; want %v, %v", at, ok, tc.wantAt, tc.wantAtOK)
			}
		})
	}
}

// A kubelet whose clock runs ahead stamps Ready transition times in the controller's future. With minReadySeconds 0
// that must not matter (kubectl's podutils: ready and minReadySeconds == 0 is available); with minReadySeconds
// positive the API server's record of the status write caps the ready time, so the wait is minReadySeconds, not
// minReadySeconds plus the skew.
func TestPodAvailabilityUnderKubeletClockSkew(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	skewed := func(readyAt, writtenAt time.Time) *corev1.Pod {
		p := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readyAt)},
		}}}
		if !writtenAt.IsZero() {
			at := metav1.NewTime(writtenAt)
			p.ManagedFields = []metav1.ManagedFieldsEntry{
				{Manager: "kube-scheduler", Operation: metav1.ManagedFieldsOperationUpdate, Time: &metav1.Time{Time: writtenAt.Add(-time.Minute)}},
				{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &at},
			}
		}
		return p
	}
	cases := []struct {
		name          string
		pod           *corev1.Pod
		minReady      int32
		wantAvailable bool
		wantAt        time.Time
		wantAtOK      bool
	}{
		{"ready 30s in the future, minReadySeconds 0", skewed(now.Add(30*time.Second), time.Time{}), 0, true, time.Time{}, false},
		{"ready 30s in the future, status written now, minReadySeconds 0", skewed(now.Add(30*time.Second), now), 0, true, time.Time{}, false},
		{"ready 30s in the future, status written 2s ago, minReadySeconds 5", skewed(now.Add(30*time.Second), now.Add(-2*time.Second)), 5,
			false, now.Add(3 * time.Second), true},
		{"ready 30s in the future, status written 6s ago, minReadySeconds 5", skewed(now.Add(30*time.Second), now.Add(-6*time.Second)), 5,
			true, now.Add(-time.Second), true},
		{"ready 30s in the future, write time unknown, minReadySeconds 5", skewed(now.Add(30*time.Second), time.Time{}), 5,
			false, now.Add(35 * time.Second), true},
		{"no skew: an earlier transition time stands", skewed(now.Add(-10*time.Second), now.Add(-2*time.Second)), 5,
			true, now.Add(-5 * time.Second), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPodAvailable(tc.pod, tc.minReady, now); got != tc.wantAvailable {
				t.Errorf("IsPodAvailable = %v, want %v", got, tc.wantAvailable)
			}
			at, ok := AvailableAt(tc.pod, tc.minReady)
			if ok != tc.wantAtOK || !at.Equal(tc.wantAt) {
				t.Errorf("AvailableAt = %v, %v; want %v, %v", at, ok, tc.wantAt, tc.wantAtOK)
			}
		})
	}
}

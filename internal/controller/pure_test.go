package controller

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/planner"
)

func TestExpectations(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Unix(1000, 0))
	set := types.NamespacedName{Namespace: "ns", Name: "agent"}
	tests := []struct {
		name string
		act  func(e *expectations)
		want bool
	}{
		{name: "nothing issued is satisfied", act: func(*expectations) {}, want: true},
		{name: "a create not yet seen is pending", act: func(e *expectations) { e.ExpectCreate(set, "n1") }, want: false},
		{name: "a seen create is satisfied", act: func(e *expectations) {
			e.ExpectCreate(set, "n1")
			e.CreateObserved(set, "n1")
		}, want: true},
		{name: "two creates on a node need two observations", act: func(e *expectations) {
			e.ExpectCreate(set, "n1")
			e.ExpectCreate(set, "n1")
			e.CreateObserved(set, "n1")
		}, want: false},
		{name: "an observation for another node does not count", act: func(e *expectations) {
			e.ExpectCreate(set, "n1")
			e.CreateObserved(set, "n2")
		}, want: false},
		{name: "a delete not yet seen is pending", act: func(e *expectations) { e.ExpectDelete(set, "uid-1") }, want: false},
		{name: "an in-place update not yet seen is pending", act: func(e *expectations) { e.ExpectUpdate(set, "uid-1", "h2") }, want: false},
		{name: "an update seen with its revision is satisfied", act: func(e *expectations) {
			e.ExpectUpdate(set, "uid-1", "h2")
			e.UpdateObserved(set, "uid-1", "h2")
		}, want: true},
		{name: "an update seen with another revision is still pending", act: func(e *expectations) {
			e.ExpectUpdate(set, "uid-1", "h2")
			e.UpdateObserved(set, "uid-1", "h1")
		}, want: false},
		{name: "a pod that left the cache clears its update", act: func(e *expectations) {
			e.ExpectUpdate(set, "uid-1", "h2")
			e.PodGone(set, "uid-1")
		}, want: true},
		{name: "a seen delete is satisfied", act: func(e *expectations) {
			e.ExpectDelete(set, "uid-1")
			e.DeleteObserved(set, "uid-1")
		}, want: true},
		{name: "pending writes expire after the timeout", act: func(e *expectations) {
			e.ExpectCreate(set, "n1")
			clk.Step(expectationsTimeout + time.Second)
		}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExpectations(clk)
			tt.act(e)
			if got := e.Satisfied(set); got != tt.want {
				t.Errorf("Satisfied = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClaimObjects(t *testing.T) {
	set := &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "set-uid"}}
	ours := *metav1.NewControllerRef(set, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))
	theirs := ours
	theirs.UID = "other-uid"
	pod := func(name string, lbls map[string]string, refs ...metav1.OwnerReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls, OwnerReferences: refs}}
	}
	match := map[string]string{"app": "agent"}
	other := map[string]string{"app": "other"}
	deleting := pod("orphan-deleting", match)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	c := claimObjects(set, labels.SelectorFromSet(match), []*corev1.Pod{
		pod("owned", match, ours),
		pod("orphan", match),
		pod("orphan-other-labels", other),
		pod("owned-stopped-matching", other, ours),
		pod("someone-elses", match, theirs),
		deleting,
	})
	names := func(pods []*corev1.Pod) []string {
		var out []string
		for _, p := range pods {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(c.owned); len(got) != 1 || got[0] != "owned" {
		t.Errorf("owned = %v", got)
	}
	if got := names(c.adopt); len(got) != 1 || got[0] != "orphan" {
		t.Errorf("adopt = %v", got)
	}
	if got := names(c.release); len(got) != 1 || got[0] != "owned-stopped-matching" {
		t.Errorf("release = %v", got)
	}

	set.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	c = claimObjects(set, labels.SelectorFromSet(match), []*corev1.Pod{pod("orphan", match), pod("owned-stopped-matching", other, ours)})
	if len(c.adopt) != 0 || len(c.release) != 0 {
		t.Errorf("a set being deleted adopts %v and releases %v, want neither", names(c.adopt), names(c.release))
	}
}

func TestMergeConditionsKeepsForeignConditionsAndTransitionTimes(t *testing.T) {
	old := metav1.NewTime(time.Unix(100, 0))
	now := metav1.NewTime(time.Unix(200, 0))
	stored := []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "RolloutComplete", LastTransitionTime: old},
		{Type: "example.com/Audited", Status: metav1.ConditionTrue, Reason: "Checked", LastTransitionTime: old},
	}
	planned := []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "RolloutComplete", Message: "3 of 3", LastTransitionTime: now},
		{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: "NotStalled", LastTransitionTime: now},
	}
	merged := mergeConditions(stored, planned)
	byType := map[string]metav1.Condition{}
	for _, c := range merged {
		byType[c.Type] = c
	}
	if c := byType[v1alpha1.ConditionReady]; !c.LastTransitionTime.Equal(&old) || c.Message != "3 of 3" {
		t.Errorf("Ready = %+v: want the old transition time and the new message", c)
	}
	if _, ok := byType["example.com/Audited"]; !ok {
		t.Error("a condition another writer added was dropped")
	}
	if c := byType[v1alpha1.ConditionStalled]; !c.LastTransitionTime.Equal(&now) {
		t.Errorf("Stalled = %+v: a new condition takes the planned time", c)
	}
	if stored[0].Message != "" {
		t.Error("mergeConditions modified its input")
	}
}

func TestPodUpdatePatch(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-x", UID: "uid-1"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1"}},
			Containers:     []corev1.Container{{Name: "agent", Image: "agent:1"}, {Name: "sidecar", Image: "side:1"}},
		},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
			{Name: "agent", Image: "agent:1", ImageID: "id-1", RestartCount: 3},
		}},
	}
	overridden := pod.DeepCopy()
	overridden.Annotations = map[string]string{v1alpha1.NodeOverrideAnnotation: "large"}
	labelled := pod.DeepCopy()
	// "team" was set to another value on the pod than the template had: it stays.
	labelled.Labels = map[string]string{"app": "agent", "version": "v1", "tier": "node", "team": "infra"}
	labelled.Annotations = map[string]string{"old-note": "y"}
	// An image patch also records the changed containers' status before it, for availability to compare with.
	tests := []struct {
		name        string
		pod         *corev1.Pod
		override    string
		images      map[string]string
		labels      planner.MetadataChange
		annotations planner.MetadataChange
		want        string
	}{
		{name: "relabel only", want: `{"metadata":{"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"}}`},
		{name: "relabel to an override", override: "small",
			want: `{"metadata":{"annotations":{"apps.nodeagentset.io/node-override":"small"},"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"}}`},
		{name: "relabel keeping the override", pod: overridden, override: "large",
			want: `{"metadata":{"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"}}`},
		{name: "relabel to no override removes the annotation", pod: overridden,
			want: `{"metadata":{"annotations":{"apps.nodeagentset.io/node-override":null},"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"}}`},
		{name: "one container image", images: map[string]string{"agent": "agent:2"},
			want: `{"metadata":{"annotations":{"apps.nodeagentset.io/in-place-update-state":"{\"revision\":\"h2\",\"containers\":{\"agent\":{\"image\":\"agent:1\",\"imageID\":\"id-1\",\"restartCount\":3}}}"},` +
				`"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"},"spec":{"containers":[{"image":"agent:2","name":"agent"}]}}`},
		{name: "init container image; unchanged and unknown names are left out",
			images: map[string]string{"init": "busybox:2", "sidecar": "side:1", "gone": "x"},
			want: `{"metadata":{"annotations":{"apps.nodeagentset.io/in-place-update-state":"{\"revision\":\"h2\",\"containers\":{\"init\":{\"restartCount\":0}}}"},` +
				`"labels":{"controller-revision-hash":"h2"},"uid":"uid-1"},"spec":{"initContainers":[{"image":"busybox:2","name":"init"}]}}`},
		{name: "an image with the template's label and annotation changes; what the pod already has is left out",
			pod: labelled, images: map[string]string{"agent": "agent:2"},
			labels: planner.MetadataChange{Set: map[string]string{"version": "v2", "app": "agent"},
				Remove: map[string]string{"tier": "node", "absent": "x", "team": "obs"}},
			annotations: planner.MetadataChange{Set: map[string]string{"note": "x"}, Remove: map[string]string{"old-note": "y"}},
			want: `{"metadata":{"annotations":{"apps.nodeagentset.io/in-place-update-state":"{\"revision\":\"h2\",\"containers\":{\"agent\":{\"image\":\"agent:1\",\"imageID\":\"id-1\",\"restartCount\":3}}}","note":"x","old-note":null},` +
				`"labels":{"controller-revision-hash":"h2","tier":null,"version":"v2"},"uid":"uid-1"},"spec":{"containers":[{"image":"agent:2","name":"agent"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod
			if tt.pod != nil {
				p = tt.pod
			}
			got, err := podUpdatePatch(p, "h2", planner.PodUpdate{Images: tt.images, Labels: tt.labels,
				Annotations: tt.annotations, NodeOverride: tt.override})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("patch\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTrimManagedFields(t *testing.T) {
	early, late := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	fields := &metav1.FieldsV1{Raw: []byte(`{"f:status":{}}`)}
	entries := []metav1.ManagedFieldsEntry{
		{Manager: "kube-scheduler", Operation: metav1.ManagedFieldsOperationUpdate, Time: &late, FieldsV1: fields},
		{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &early, FieldsV1: fields},
		{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &late, FieldsV1: fields},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ManagedFields: entries}}
	if _, err := trimManagedFields(pod); err != nil {
		t.Fatal(err)
	}
	want := []metav1.ManagedFieldsEntry{{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: &late}}
	if len(pod.ManagedFields) != 1 || pod.ManagedFields[0].Manager != want[0].Manager || !pod.ManagedFields[0].Time.Equal(&late) ||
		pod.ManagedFields[0].FieldsV1 != nil {
		t.Errorf("pod managedFields = %+v, want only the latest status write without its field set", pod.ManagedFields)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{ManagedFields: entries}}
	if _, err := trimManagedFields(node); err != nil {
		t.Fatal(err)
	}
	if node.ManagedFields != nil {
		t.Errorf("node managedFields = %+v, want none", node.ManagedFields)
	}
}

func TestRolloutStartIsReadFromTheRevision(t *testing.T) {
	created := metav1.NewTime(time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC))
	rev := func(number int64, annotations map[string]string) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{Revision: number,
			ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created, Annotations: annotations}}
	}
	if _, ok := rolloutStart(rev(1, nil)); ok {
		t.Error("the first revision is the initial placement, not a rollout")
	}
	if got, ok := rolloutStart(rev(2, nil)); !ok || !got.Equal(created.Time) {
		t.Errorf("a new revision's rollout starts at its creation: got %v, %v", got, ok)
	}
	since := "2030-01-02T08:30:00Z"
	if got, ok := rolloutStart(rev(5, map[string]string{updateRevisionSinceAnnotation: since})); !ok || got.Format(time.RFC3339) != since {
		t.Errorf("a renumbered revision's rollout starts when it was renumbered: got %v, %v", got, ok)
	}
}

// A pass asks to come back at the earlier of the plan's own time and a held status write's, 0 meaning none.
func TestSoonest(t *testing.T) {
	tests := []struct {
		a, b, want time.Duration
	}{
		{a: 0, b: 0, want: 0},
		{a: time.Second, b: 0, want: time.Second},
		{a: 0, b: time.Second, want: time.Second},
		{a: time.Second, b: 300 * time.Millisecond, want: 300 * time.Millisecond},
		{a: 300 * time.Millisecond, b: time.Second, want: 300 * time.Millisecond},
		{a: time.Second, b: time.Second, want: time.Second},
	}
	for _, tt := range tests {
		if got := soonest(tt.a, tt.b); got != tt.want {
			t.Errorf("soonest(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

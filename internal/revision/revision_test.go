package revision

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func setWithImage(image string) *v1alpha1.NodeAgentSet {
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "set-uid"},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: image}}},
			},
		},
	}
}

func mustNew(t *testing.T, set *v1alpha1.NodeAgentSet, number int64) *appsv1.ControllerRevision {
	t.Helper()
	rev, err := New(set, Hash(&set.Spec.Template, set.Status.CollisionCount), number)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func TestHash(t *testing.T) {
	a, b := setWithImage("agent:1"), setWithImage("agent:1")
	if Hash(&a.Spec.Template, nil) != Hash(&b.Spec.Template, nil) {
		t.Error("equal templates hash differently")
	}
	if Hash(&a.Spec.Template, nil) == Hash(&setWithImage("agent:2").Spec.Template, nil) {
		t.Error("different templates hash equally")
	}
	if Hash(&a.Spec.Template, nil) == Hash(&a.Spec.Template, ptr.To[int32](1)) {
		t.Error("collision count does not change the hash")
	}
}

func TestNameTruncatesLongSetNames(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if got := Name(string(long), "abcde12345"); len(got) != maxNamePrefix+11 {
		t.Errorf("name length %d, want %d", len(got), maxNamePrefix+11)
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	set := setWithImage("agent:1")
	set.Annotations = map[string]string{v1alpha1.ChangeCauseAnnotation: "kubectl nas set image agent agent=agent:1"}
	rev := mustNew(t, set, 1)
	got, err := TemplateOf(rev)
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(*got, set.Spec.Template) {
		t.Errorf("template after round trip = %+v, want %+v", got, set.Spec.Template)
	}
	if rev.Annotations[v1alpha1.ChangeCauseAnnotation] == "" {
		t.Error("change-cause not carried into the revision")
	}
	if rev.Labels[v1alpha1.ControllerRevisionHashLabel] == "" || rev.Labels["app"] != "agent" {
		t.Errorf("labels = %v", rev.Labels)
	}
	if ref := metav1.GetControllerOf(rev); ref == nil || ref.UID != set.UID || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("owner reference = %+v", ref)
	}
}

func TestDecide(t *testing.T) {
	v1, v2, v3 := setWithImage("agent:1"), setWithImage("agent:2"), setWithImage("agent:3")
	tests := []struct {
		name       string
		set        *v1alpha1.NodeAgentSet
		existing   func(t *testing.T) []*appsv1.ControllerRevision
		wantAction Action
		wantNext   int64
	}{
		{
			name:       "first template creates revision 1",
			set:        v1,
			existing:   func(*testing.T) []*appsv1.ControllerRevision { return nil },
			wantAction: Create,
			wantNext:   1,
		},
		{
			name: "unchanged template reuses the newest revision",
			set:  v2,
			existing: func(t *testing.T) []*appsv1.ControllerRevision {
				return []*appsv1.ControllerRevision{mustNew(t, v1, 1), mustNew(t, v2, 2)}
			},
			wantAction: UseExisting,
			wantNext:   2,
		},
		{
			name: "new template creates the next number",
			set:  v3,
			existing: func(t *testing.T) []*appsv1.ControllerRevision {
				return []*appsv1.ControllerRevision{mustNew(t, v1, 1), mustNew(t, v2, 2)}
			},
			wantAction: Create,
			wantNext:   3,
		},
		{
			name: "rollback from 2 to 1 renumbers revision 1 as 3",
			set:  v1,
			existing: func(t *testing.T) []*appsv1.ControllerRevision {
				return []*appsv1.ControllerRevision{mustNew(t, v1, 1), mustNew(t, v2, 2)}
			},
			wantAction: Renumber,
			wantNext:   3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.set, tt.existing(t))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.wantAction || d.Next != tt.wantNext {
				t.Errorf("Decide = action %v next %d, want %v %d", d.Action, d.Next, tt.wantAction, tt.wantNext)
			}
		})
	}
}

func TestToPrune(t *testing.T) {
	var revs []*appsv1.ControllerRevision
	for i := 1; i <= 5; i++ {
		revs = append(revs, mustNew(t, setWithImage("agent:"+string(rune('0'+i))), int64(i)))
	}
	update := revs[4]
	hashOf := func(r *appsv1.ControllerRevision) string { return r.Labels[v1alpha1.ControllerRevisionHashLabel] }
	tests := []struct {
		name  string
		live  map[string]bool
		limit int32
		want  []int64
	}{
		{name: "within the limit nothing goes", limit: 10, want: nil},
		{name: "oldest go first", limit: 2, want: []int64{1, 2}},
		{name: "limit zero keeps only the update revision", limit: 0, want: []int64{1, 2, 3, 4}},
		{name: "a revision a live pod runs is kept", limit: 0, live: map[string]bool{hashOf(revs[0]): true}, want: []int64{2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, r := range ToPrune(revs, update, tt.live, tt.limit) {
				got = append(got, r.Revision)
			}
			if !equality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("pruned %v, want %v", got, tt.want)
			}
		})
	}
}

// A set migrated from a DaemonSet adopts the DaemonSet's revisions, one of which may store the same template as the
// set's own revision: the revision the set already reports stays its update revision, renumbered if need be.
func TestDecideKeepsTheReportedUpdateRevisionAmongEqualOnes(t *testing.T) {
	set := setWithImage("agent:1")
	own := mustNew(t, set, 1)
	adopted := mustNew(t, set, 3)
	adopted.Name, adopted.Labels[v1alpha1.ControllerRevisionHashLabel] = "agent-ds5f7c", "ds5f7c"
	set.Status.UpdateRevision = own.Name
	d, err := Decide(set, []*appsv1.ControllerRevision{own, adopted})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != Renumber || d.Existing.Name != own.Name || d.Next != 4 {
		t.Errorf("Decide = %v %s next %d, want the set's own revision renumbered to 4", d.Action, d.Existing.Name, d.Next)
	}
	set.Status.UpdateRevision = ""
	if d, _ := Decide(set, []*appsv1.ControllerRevision{own, adopted}); d.Action != UseExisting || d.Existing.Name != adopted.Name {
		t.Errorf("without a reported update revision: %v %s, want the newest equal revision", d.Action, d.Existing.Name)
	}
}

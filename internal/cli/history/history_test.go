package history

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

var owner = &v1alpha1.NodeAgentSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", UID: types.UID("set-uid")}}

func rev(name string, number int64, cause string, controller types.UID) appsv1.ControllerRevision {
	r := appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name}, Revision: number}
	if cause != "" {
		r.Annotations = map[string]string{v1alpha1.ChangeCauseAnnotation: cause}
	}
	if controller != "" {
		isController := true
		r.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "NodeAgentSet", Name: "agent", UID: controller, Controller: &isController,
		}}
	}
	return r
}

func numbers(revs []*appsv1.ControllerRevision) []int64 {
	out := make([]int64, 0, len(revs))
	for _, r := range revs {
		out = append(out, r.Revision)
	}
	return out
}

func TestOwned(t *testing.T) {
	notController := rev("agent-shared", 9, "", "set-uid")
	notController.OwnerReferences[0].Controller = nil
	cases := []struct {
		name string
		revs []appsv1.ControllerRevision
		want []int64
	}{
		{name: "no revisions", want: []int64{}},
		{
			name: "sorted by revision number",
			revs: []appsv1.ControllerRevision{rev("agent-c", 3, "", "set-uid"), rev("agent-a", 1, "", "set-uid"), rev("agent-b", 2, "", "set-uid")},
			want: []int64{1, 2, 3},
		},
		{
			name: "revisions of another set with the same labels are left out",
			revs: []appsv1.ControllerRevision{rev("agent-a", 1, "", "set-uid"), rev("other-a", 2, "", "other-uid"), rev("orphan", 3, "", "")},
			want: []int64{1},
		},
		{
			name: "an owner reference that is not the controller does not count",
			revs: []appsv1.ControllerRevision{notController, rev("agent-a", 1, "", "set-uid")},
			want: []int64{1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := numbers(Owned(owner, tc.revs))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func owned(revs ...appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	return Owned(owner, revs)
}

func TestTable(t *testing.T) {
	cases := []struct {
		name string
		revs []*appsv1.ControllerRevision
		want string
	}{
		{name: "no history", want: "No rollout history found.\n"},
		{
			name: "change causes and none",
			revs: owned(
				rev("agent-b", 2, "kubectl nas set image agent app=nginx:1.27 --record=true", "set-uid"),
				rev("agent-a", 1, "", "set-uid"),
				rev("agent-c", 10, "rollback", "set-uid"),
			),
			want: strings.Join([]string{
				"REVISION  CHANGE-CAUSE",
				"1         <none>",
				"2         kubectl nas set image agent app=nginx:1.27 --record=true",
				"10        rollback",
				"",
			}, "\n"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Table(tc.revs); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestRollbackTarget(t *testing.T) {
	three := owned(rev("agent-a", 1, "", "set-uid"), rev("agent-b", 4, "", "set-uid"), rev("agent-c", 6, "", "set-uid"))
	cases := []struct {
		name    string
		revs    []*appsv1.ControllerRevision
		to      int64
		want    string
		wantErr string
	}{
		{name: "zero picks the revision before the newest", revs: three, to: 0, want: "agent-b"},
		{name: "a number picks that revision", revs: three, to: 1, want: "agent-a"},
		{name: "the newest revision can be named", revs: three, to: 6, want: "agent-c"},
		{name: "unknown revision names the known ones", revs: three, to: 5, wantErr: "unable to find revision 5 in the history (known revisions: 1, 4, 6)"},
		{name: "negative revision is refused", revs: three, to: -1, wantErr: "--to-revision must be 0 (the previous revision) or a revision number, got -1"},
		{name: "single revision has no previous", revs: owned(rev("agent-a", 1, "", "set-uid")), to: 0, wantErr: "no last revision to roll back to (known revisions: 1)"},
		{name: "no revisions at all", to: 0, wantErr: "no last revision to roll back to (the set has no revisions)"},
		{name: "no revisions and a number", to: 2, wantErr: "unable to find revision 2 in the history (the set has no revisions)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RollbackTarget(tc.revs, tc.to)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Name != tc.want {
				t.Errorf("got %s, want %s", got.Name, tc.want)
			}
		})
	}
}

package edit

import (
	"testing"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestChangeCause(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		flags []Flag
		want  string
	}{
		{
			name:  "arguments and flags",
			args:  []string{"agent", "app=nginx:1.27"},
			flags: []Flag{{"namespace", "kube-system"}, {"record", "true"}},
			want:  "kubectl nas set image agent app=nginx:1.27 --namespace=kube-system --record=true",
		},
		{
			name:  "secrets are not written down",
			args:  []string{"agent", "app=nginx:1.27"},
			flags: []Flag{{"token", "s3cr3t"}},
			want:  "kubectl nas set image agent app=nginx:1.27 --token=CLASSIFIED",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChangeCause("kubectl nas set image", tc.args, tc.flags); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecordChangeCause(t *testing.T) {
	cases := []struct {
		name        string
		existing    map[string]string
		mode        RecordMode
		wantCause   string
		wantPresent bool
		wantChanged bool
	}{
		{name: "record sets the annotation", mode: RecordAlways, wantCause: "new", wantPresent: true, wantChanged: true},
		{name: "record replaces an old cause", existing: map[string]string{v1alpha1.ChangeCauseAnnotation: "old"}, mode: RecordAlways, wantCause: "new", wantPresent: true, wantChanged: true},
		{name: "without the flag an existing cause is updated", existing: map[string]string{v1alpha1.ChangeCauseAnnotation: "old"}, mode: RecordIfPresent, wantCause: "new", wantPresent: true, wantChanged: true},
		{name: "without the flag and no cause nothing is added", existing: map[string]string{"other": "x"}, mode: RecordIfPresent},
		{name: "record=false leaves an old cause", existing: map[string]string{v1alpha1.ChangeCauseAnnotation: "old"}, mode: RecordNever, wantCause: "old", wantPresent: true},
		{name: "same cause is no change", existing: map[string]string{v1alpha1.ChangeCauseAnnotation: "new"}, mode: RecordAlways, wantCause: "new", wantPresent: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := agentSet()
			set.Annotations = tc.existing
			changed := RecordChangeCause(set, "new", tc.mode)
			cause, present := set.Annotations[v1alpha1.ChangeCauseAnnotation]
			if changed != tc.wantChanged || cause != tc.wantCause || present != tc.wantPresent {
				t.Errorf("got (changed=%t, %q, present=%t), want (changed=%t, %q, present=%t)",
					changed, cause, present, tc.wantChanged, tc.wantCause, tc.wantPresent)
			}
		})
	}
}

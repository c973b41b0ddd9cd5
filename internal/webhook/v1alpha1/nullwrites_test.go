package v1alpha1

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gomodules.xyz/jsonpatch/v2"
)

func TestDropNullWrites(t *testing.T) {
	tests := []struct {
		name string
		in   []jsonpatch.Operation
		want []jsonpatch.Operation
	}{
		{name: "no operations", in: nil, want: nil},
		{
			name: "defaults are kept",
			in: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/revisionHistoryLimit", Value: float64(10)},
				{Operation: "add", Path: "/spec/updateStrategy", Value: map[string]any{"type": "RollingUpdate"}},
			},
			want: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/revisionHistoryLimit", Value: float64(10)},
				{Operation: "add", Path: "/spec/updateStrategy", Value: map[string]any{"type": "RollingUpdate"}},
			},
		},
		{
			name: "nulls of nil Go fields are dropped, the rest kept in order",
			in: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/selector", Value: nil},
				{Operation: "add", Path: "/spec/template/spec/restartPolicy", Value: "Always"},
				{Operation: "replace", Path: "/spec/template/spec/containers", Value: nil},
				{Operation: "remove", Path: "/spec/template/metadata/creationTimestamp"},
			},
			want: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/template/spec/restartPolicy", Value: "Always"},
				{Operation: "remove", Path: "/spec/template/metadata/creationTimestamp"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, dropNullWrites(tc.in)); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}

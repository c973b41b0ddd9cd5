package v1alpha1

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gomodules.xyz/jsonpatch/v2"
)

func TestDropMarshallingNoise(t *testing.T) {
	tests := []struct {
		name string
		in   []jsonpatch.Operation
		want []jsonpatch.Operation
	}{
		{name: "no operations", in: nil, want: nil},
		{
			name: "a changed value is kept even when empty",
			in:   []jsonpatch.Operation{{Operation: "replace", Path: "/spec/template/metadata/labels", Value: map[string]any{}}},
			want: []jsonpatch.Operation{{Operation: "replace", Path: "/spec/template/metadata/labels", Value: map[string]any{}}},
		},
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
			name: "nulls and empty objects are dropped, the rest kept in order",
			in: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/selector", Value: nil},
				{Operation: "add", Path: "/spec/template/spec/restartPolicy", Value: "Always"},
				{Operation: "add", Path: "/spec/template/spec/containers/0/resources", Value: map[string]any{}},
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
			if diff := cmp.Diff(tc.want, dropMarshallingNoise(tc.in)); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}

package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// TestModifySet covers the write path every editing command shares: the patch carries the resourceVersion it was
// computed from, a conflict starts over from a fresh read, and a refused edit sends nothing.
func TestModifySet(t *testing.T) {
	cases := []struct {
		name         string
		conflicts    int
		change       func(*v1alpha1.NodeAgentSet) (bool, error)
		wantErr      string
		wantCalls    int
		wantPatches  int
		wantMinReady int32
	}{
		{
			name:         "change is patched with the resourceVersion",
			change:       func(s *v1alpha1.NodeAgentSet) (bool, error) { s.Spec.MinReadySeconds = 9; return true, nil },
			wantCalls:    1,
			wantPatches:  1,
			wantMinReady: 9,
		},
		{
			name:         "conflict re-reads and re-applies the change",
			conflicts:    2,
			change:       func(s *v1alpha1.NodeAgentSet) (bool, error) { s.Spec.MinReadySeconds = 9; return true, nil },
			wantCalls:    3,
			wantPatches:  3,
			wantMinReady: 9,
		},
		{
			name:         "nothing to change sends nothing",
			change:       func(*v1alpha1.NodeAgentSet) (bool, error) { return false, nil },
			wantCalls:    1,
			wantMinReady: 5,
		},
		{
			name: "refused edit sends nothing",
			change: func(s *v1alpha1.NodeAgentSet) (bool, error) {
				s.Spec.MinReadySeconds = 9
				return false, errors.New("refused")
			},
			wantErr:      "refused",
			wantCalls:    1,
			wantMinReady: 5,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := &v1alpha1.NodeAgentSet{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "agent"},
				Spec:       v1alpha1.NodeAgentSetSpec{MinReadySeconds: 5},
			}
			patches, conflicts := 0, tc.conflicts
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(set).WithInterceptorFuncs(interceptor.Funcs{
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
					patches++
					data, err := patch.Data(obj)
					if err != nil {
						return err
					}
					if !strings.Contains(string(data), `"resourceVersion"`) {
						t.Errorf("patch without a resourceVersion precondition: %s", data)
					}
					if conflicts > 0 {
						conflicts--
						return apierrors.NewConflict(schema.GroupResource{Group: "apps.nodeagentset.io", Resource: "nodeagentsets"}, obj.GetName(), errors.New("changed"))
					}
					return c.Patch(ctx, obj, patch, opts...)
				},
			}).Build()
			s := &session{client: c, namespace: "ns"}

			calls := 0
			_, err := s.modifySet(context.Background(), "agent", func(set *v1alpha1.NodeAgentSet) (bool, error) {
				calls++
				return tc.change(set)
			})
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if calls != tc.wantCalls || patches != tc.wantPatches {
				t.Errorf("calls = %d, patches = %d, want %d and %d", calls, patches, tc.wantCalls, tc.wantPatches)
			}
			stored := &v1alpha1.NodeAgentSet{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(set), stored); err != nil {
				t.Fatal(err)
			}
			if stored.Spec.MinReadySeconds != tc.wantMinReady {
				t.Errorf("minReadySeconds = %d, want %d", stored.Spec.MinReadySeconds, tc.wantMinReady)
			}
		})
	}
}

package admission

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission/admissiontest"
)

func TestDefaultFillsUnsetFields(t *testing.T) {
	for _, tc := range admissiontest.GoodCases() {
		t.Run(tc.Name, func(t *testing.T) {
			set := tc.Manifest()
			Default(set)
			if diff := cmp.Diff(tc.WantStrategy, set.Spec.UpdateStrategy); diff != "" {
				t.Errorf("updateStrategy (-want +got):\n%s", diff)
			}
			if set.Spec.RevisionHistoryLimit == nil || *set.Spec.RevisionHistoryLimit != tc.WantRevisionHistoryLimit {
				t.Errorf("revisionHistoryLimit = %v, want %d", set.Spec.RevisionHistoryLimit, tc.WantRevisionHistoryLimit)
			}
			if got := set.Spec.Template.Spec.RestartPolicy; got != corev1.RestartPolicyAlways {
				t.Errorf("restartPolicy = %q, want Always", got)
			}
		})
	}
}

func TestDefaultKeepsAnExplicitRestartPolicy(t *testing.T) {
	set := admissiontest.ValidSet()
	set.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	Default(set)
	if got := set.Spec.Template.Spec.RestartPolicy; got != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never left for validation to reject", got)
	}
}

func TestDefaultLeavesOnDeleteWithoutRollingUpdate(t *testing.T) {
	set := admissiontest.ValidSet()
	set.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
	Default(set)
	if set.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("rollingUpdate = %+v, want nil for OnDelete", set.Spec.UpdateStrategy.RollingUpdate)
	}
}

// Re-applying a defaulted manifest must not change it, or GitOps tools would show a diff on every sync.
func TestDefaultIsIdempotent(t *testing.T) {
	var cases []admissiontest.Case
	for _, tc := range admissiontest.GoodCases() {
		cases = append(cases, tc.Case)
	}
	for _, tc := range admissiontest.BadCases() {
		cases = append(cases, tc.Case)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			once := tc.Manifest()
			Default(once)
			twice := once.DeepCopy()
			Default(twice)
			if !equality.Semantic.DeepEqual(once, twice) {
				t.Errorf("second Default changed the set (-once +twice):\n%s", cmp.Diff(once, twice))
			}
		})
	}
}

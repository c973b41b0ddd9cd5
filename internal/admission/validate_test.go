package admission

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission/admissiontest"
)

// admit runs what the apiserver runs on create: the defaulting webhook, then the validating one.
func admit(set *v1alpha1.NodeAgentSet) field.ErrorList {
	Default(set)
	return Validate(set)
}

func errorLines(errs field.ErrorList) string {
	lines := make([]string, len(errs))
	for i, err := range errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

func TestValidateRejectsBadManifests(t *testing.T) {
	cases := admissiontest.BadCases()
	if len(cases) < 30 {
		t.Fatalf("only %d bad manifests; the table must keep at least 30", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if got := errorLines(admit(tc.Manifest())); got != tc.Want {
				t.Errorf("errors:\n got: %s\nwant: %s", got, tc.Want)
			}
		})
	}
}

func TestValidateAcceptsGoodManifests(t *testing.T) {
	for _, tc := range admissiontest.GoodCases() {
		t.Run(tc.Name, func(t *testing.T) {
			if errs := admit(tc.Manifest()); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", errorLines(errs))
			}
		})
	}
}

// Validate is also correct on its own, for a set the defaulting webhook never saw.
func TestValidateWithoutDefaults(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*v1alpha1.NodeAgentSet)
		want   string
	}{
		{
			name:   "nothing defaulted",
			mutate: func(*v1alpha1.NodeAgentSet) {},
			want: `spec.template.spec.restartPolicy: Unsupported value: "": supported values: "Always"` + "\n" +
				`spec.updateStrategy.type: Unsupported value: "": supported values: "RollingUpdate", "OnDelete"`,
		},
		{
			name: "RollingUpdate without its bounds",
			mutate: func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
				s.Spec.UpdateStrategy.Type = v1alpha1.RollingUpdateStrategyType
			},
			want: "spec.updateStrategy.rollingUpdate: Required value",
		},
		{
			name: "RollingUpdate with neither bound",
			mutate: func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
				s.Spec.UpdateStrategy.Type = v1alpha1.RollingUpdateStrategyType
				s.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{}
			},
			want: "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
		},
		{
			name: "a bound of an unknown type",
			mutate: func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
				s.Spec.UpdateStrategy.Type = v1alpha1.RollingUpdateStrategyType
				s.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{
					MaxUnavailable: &intstr.IntOrString{Type: 7}, MaxSurge: ptr.To(intstr.FromInt32(1)),
				}
			},
			want: `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: must be an integer or a percent such as '5%'`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := admissiontest.ValidSet()
			tc.mutate(set)
			if got := errorLines(Validate(set)); got != tc.want {
				t.Errorf("errors:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// Several errors in one manifest come out all at once, in the same order every time (maps are walked sorted).
func TestValidateReportsEveryErrorInAFixedOrder(t *testing.T) {
	set := admissiontest.ValidSet()
	set.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "eu west", "disk": "ssd!", "arch": "arm64"}
	set.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Value: "x", Effect: "Never"}}
	set.Spec.MinReadySeconds = -1
	want := `spec.template.spec.nodeSelector[disk]: Invalid value: "ssd!": ` + labelValueMessage() + "\n" +
		`spec.template.spec.nodeSelector[zone]: Invalid value: "eu west": ` + labelValueMessage() + "\n" +
		`spec.template.spec.tolerations[0].operator: Invalid value: "": operator must be Exists when ` +
		"`key` is empty, which means \"match all values and all keys\"\n" +
		`spec.template.spec.tolerations[0].effect: Unsupported value: "Never": supported values: ` +
		`"NoSchedule", "PreferNoSchedule", "NoExecute"` + "\n" +
		"spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"
	for range 20 {
		if got := errorLines(admit(set.DeepCopy())); got != want {
			t.Fatalf("errors:\n got: %s\nwant: %s", got, want)
		}
	}
}

func labelValueMessage() string {
	return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and " +
		"must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used " +
		"for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
}

func TestValidateUpdate(t *testing.T) {
	defaulted := func(mutate func(*v1alpha1.NodeAgentSet)) *v1alpha1.NodeAgentSet {
		set := admissiontest.ValidSet()
		mutate(set)
		Default(set)
		return set
	}
	unchanged := func(*v1alpha1.NodeAgentSet) {}
	tests := []struct {
		name     string
		old, new *v1alpha1.NodeAgentSet
		want     string
	}{
		{
			name: "selector changed",
			old:  defaulted(unchanged),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels["tier"] = "agents"
				s.Spec.Template.Labels["tier"] = "agents"
			}),
			want: `spec.selector: Invalid value: {"matchLabels":{"app":"node-agent","tier":"agents"}}: field is immutable`,
		},
		{
			name: "selector written differently but equal",
			old:  defaulted(unchanged),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{}
			}),
		},
		{
			name: "template changed",
			old:  defaulted(unchanged),
			new:  defaulted(func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.Containers[0].Image = "agent:2.0" }),
		},
		{
			name: "rollout paused",
			old:  defaulted(unchanged),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = v1alpha1.NodeAgentSetUpdateStrategy{
					RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{Paused: true},
				}
			}),
		},
		{
			name: "changed into an invalid spec",
			old:  defaulted(unchanged),
			new:  defaulted(func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.Containers[0].Image = "" }),
			want: "spec.template.spec.containers[0].image: Required value",
		},
		{
			// A set stored before these rules (or with the webhook off) keeps its bad spec, but its metadata can
			// still change, so finalizers can be removed and the set deleted.
			name: "metadata changed on a stored invalid spec",
			old:  defaulted(func(s *v1alpha1.NodeAgentSet) { s.Spec.Template.Spec.Containers[0].Image = "" }),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Image = ""
				s.Finalizers = nil
				s.Labels = map[string]string{"team": "platform"}
			}),
		},
		{
			// Stored while the webhooks were off: never defaulted, and invalid. The update went through the
			// defaulting webhook, so only the defaults differ from the stored spec.
			name: "metadata changed on a stored spec that was never defaulted",
			old: func() *v1alpha1.NodeAgentSet {
				s := admissiontest.ValidSet()
				s.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
				return s
			}(),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
				s.Finalizers = []string{"example.com/cleanup"}
			}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorLines(ValidateUpdate(tc.new, tc.old)); got != tc.want {
				t.Errorf("errors:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

package admission

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

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
			if tc.Home != admissiontest.Webhook {
				t.Skipf("home: %s", tc.Home)
			}
			if got := errorLines(admit(tc.Manifest())); got != tc.Want {
				t.Errorf("errors:\n got: %s\nwant: %s", got, tc.Want)
			}
		})
	}
}

// A rule the CRD schema has is not repeated in the webhook: Validate accepts every manifest whose home is the
// schema, so that each rule has one home and one message.
func TestValidateLeavesSchemaRulesToTheSchema(t *testing.T) {
	schemaCases := 0
	for _, tc := range admissiontest.BadCases() {
		switch tc.Home {
		case admissiontest.Schema:
			schemaCases++
		case admissiontest.Webhook:
			continue
		default:
			t.Fatalf("case %q: no home", tc.Name)
		}
		t.Run(tc.Name, func(t *testing.T) {
			if errs := admit(tc.Manifest()); len(errs) != 0 {
				t.Errorf("the schema refuses this, the webhook must not:\n%s", errorLines(errs))
			}
		})
	}
	if schemaCases == 0 {
		t.Fatal("no bad manifest has the schema for its home")
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

// Validate reads no field that Default fills, so a set the defaulting webhook never saw (stored while the webhooks
// were off) gets the same errors as a defaulted one.
func TestValidateWithoutDefaults(t *testing.T) {
	for _, tc := range admissiontest.BadCases() {
		if tc.Home != admissiontest.Webhook {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			if got := errorLines(Validate(tc.Manifest())); got != tc.Want {
				t.Errorf("errors:\n got: %s\nwant: %s", got, tc.Want)
			}
		})
	}
	for _, tc := range admissiontest.GoodCases() {
		t.Run(tc.Name, func(t *testing.T) {
			if errs := Validate(tc.Manifest()); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", errorLines(errs))
			}
		})
	}
}

// Several errors in one manifest come out all at once, in the same order every time (maps are walked sorted).
func TestValidateReportsEveryErrorInAFixedOrder(t *testing.T) {
	set := admissiontest.ValidSet()
	set.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "eu west", "disk": "ssd!", "arch": "arm64"}
	set.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Value: "x", Effect: "Never"}}
	set.Spec.NodeOverrides = []v1alpha1.NodeOverride{{
		Name:       "large",
		Containers: []v1alpha1.ContainerOverride{{Name: "sidecar"}},
	}}
	want := `spec.template.spec.nodeSelector[disk]: Invalid value: "ssd!": ` + labelValueMessage() + "\n" +
		`spec.template.spec.nodeSelector[zone]: Invalid value: "eu west": ` + labelValueMessage() + "\n" +
		`spec.template.spec.tolerations[0].operator: Invalid value: "": operator must be Exists when ` +
		"`key` is empty, which means \"match all values and all keys\"\n" +
		`spec.template.spec.tolerations[0].effect: Unsupported value: "Never": supported values: ` +
		`"NoSchedule", "PreferNoSchedule", "NoExecute"` + "\n" +
		`spec.nodeOverrides[0].containers[0].name: Not found: "sidecar"`
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
			// The selector's immutability is a schema rule (it compares with oldSelf); the webhook only checks
			// that the new selector matches the template.
			name: "selector changed, still matching the template",
			old:  defaulted(unchanged),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels["tier"] = "agents"
				s.Spec.Template.Labels["tier"] = "agents"
			}),
		},
		{
			name: "selector changed to one that does not match the template",
			old:  defaulted(unchanged),
			new: defaulted(func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels["tier"] = "agents"
			}),
			want: `spec.selector: Invalid value: {"matchLabels":{"app":"node-agent","tier":"agents"}}: selector does ` +
				"not match template labels",
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

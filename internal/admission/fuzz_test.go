package admission

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/randfill"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/admission/admissiontest"
)

// FuzzValidate feeds the admission functions arbitrary sets and checks they never panic, that defaulting is
// idempotent and that validation is deterministic. Each input is used twice: as a JSON manifest (what the webhook
// decodes), and as the seed of a random object (which reaches shapes JSON seeds rarely do, such as nil pointers deep
// inside the template).
//
//	go test ./internal/admission -run '^$' -fuzz FuzzValidate -fuzztime 60s
func FuzzValidate(f *testing.F) {
	for _, tc := range admissiontest.GoodCases() {
		addJSONSeed(f, tc.Manifest())
	}
	for _, tc := range admissiontest.BadCases() {
		addJSONSeed(f, tc.Manifest())
	}
	f.Add([]byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":"99999999999999999999%"}}}}`))
	f.Add([]byte(`{"spec":{"selector":{"matchExpressions":[{"key":"","operator":"In"}]},"template":{"spec":{"affinity":{"nodeAffinity":{}}}}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var fromJSON v1alpha1.NodeAgentSet
		if err := json.Unmarshal(data, &fromJSON); err == nil {
			checkAdmissionInvariants(t, &fromJSON)
		}
		random := randomSet(data)
		checkAdmissionInvariants(t, random)
	})
}

// randomSet fills, from the fuzzer's bytes, the fields the admission functions read (Default and Warnings read
// the strategy, minReadySeconds, revisionHistoryLimit, restartPolicy and hostNetwork; Validate the rest). Filling
// the whole spec would spend the time on the hundreds of pod fields they never look at.
func randomSet(data []byte) *v1alpha1.NodeAgentSet {
	filler := randfill.NewFromGoFuzz(data).NilChance(0.2).NumElements(0, 3).MaxDepth(8)
	set := admissiontest.ValidSet()
	spec := &set.Spec
	pod := &spec.Template.Spec
	filler.Fill(&spec.Selector)
	filler.Fill(&spec.UpdateStrategy)
	filler.Fill(&spec.MinReadySeconds)
	filler.Fill(&spec.RevisionHistoryLimit)
	filler.Fill(&spec.Template.Labels)
	filler.Fill(&spec.Template.Annotations)
	filler.Fill(&pod.RestartPolicy)
	filler.Fill(&pod.HostNetwork)
	filler.Fill(&pod.NodeSelector)
	filler.Fill(&pod.Affinity)
	filler.Fill(&pod.Tolerations)
	for _, containers := range []*[]corev1.Container{&pod.Containers, &pod.InitContainers} {
		var n uint8
		filler.Fill(&n)
		*containers = make([]corev1.Container, n%4)
		for i := range *containers {
			c := &(*containers)[i]
			filler.Fill(&c.Name)
			filler.Fill(&c.Image)
			filler.Fill(&c.Ports)
		}
	}
	return set
}

func addJSONSeed(f *testing.F, set *v1alpha1.NodeAgentSet) {
	data, err := json.Marshal(set)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

func checkAdmissionInvariants(t *testing.T, set *v1alpha1.NodeAgentSet) {
	t.Helper()
	before := set.DeepCopy()
	first := errorLines(Validate(set))
	_ = Warnings(set)
	_ = ValidateUpdate(set, admissiontest.ValidSet())
	if !equality.Semantic.DeepEqual(before, set) {
		t.Fatal("Validate, Warnings or ValidateUpdate changed the set")
	}
	if second := errorLines(Validate(set)); second != first {
		t.Fatalf("Validate is not deterministic:\nfirst:  %s\nsecond: %s", first, second)
	}

	Default(set)
	once := set.DeepCopy()
	Default(set)
	if !equality.Semantic.DeepEqual(once, set) {
		t.Fatal("Default is not idempotent")
	}
	_ = Validate(set)
	_ = Warnings(set)
	_ = ValidateUpdate(set, once)
	_ = ValidateUpdate(once, before)
}

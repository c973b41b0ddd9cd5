package admissiontest

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// BaseName is the name of the set ValidSet returns.
const BaseName = "node-agent"

// ValidSet returns a minimal valid manifest as a user would write it: no update strategy, no revision history
// limit, no restart policy. Every case starts from it.
func ValidSet() *v1alpha1.NodeAgentSet {
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: BaseName},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": BaseName}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": BaseName}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "agent", Image: "registry.example.com/node-agent:1.0"}},
				},
			},
		},
	}
}

// Case is one manifest: ValidSet changed by Mutate.
type Case struct {
	Name   string
	Mutate func(set *v1alpha1.NodeAgentSet)
}

// Manifest returns the case's manifest, a fresh copy each time.
func (c Case) Manifest() *v1alpha1.NodeAgentSet {
	set := ValidSet()
	if c.Mutate != nil {
		c.Mutate(set)
	}
	return set
}

// Home is the one part of the apiserver that refuses a bad manifest. Every rule has exactly one: the CRD schema for
// what OpenAPI and CEL can say about the set's own fields, the validating webhook for the rest.
type Home int

const (
	// Schema: the CRD's OpenAPI and CEL rules. The apiserver checks them after the defaulting webhook and before
	// it calls the validating webhook, and without any webhook installed.
	Schema Home = iota + 1
	// Webhook: the validating webhook, admission.Validate. The schema accepts the manifest.
	Webhook
)

func (h Home) String() string {
	switch h {
	case Schema:
		return "schema"
	case Webhook:
		return "webhook"
	}
	return fmt.Sprintf("Home(%d)", int(h))
}

// BadCase is a manifest that must be rejected.
type BadCase struct {
	Case
	// Home is where the rule the manifest breaks lives.
	Home Home
	// Want is the one error the manifest gets from its home, as field.Error.Error() prints it: from
	// admission.Validate for the defaulted manifest, or from the apiserver's schema validation.
	Want string
}

// GoodCase is a manifest that must be accepted.
type GoodCase struct {
	Case
	// WantStrategy, WantRevisionHistoryLimit: the update strategy and revision history limit after defaulting.
	WantStrategy             v1alpha1.NodeAgentSetUpdateStrategy
	WantRevisionHistoryLimit int32
	// WantWarnings are the admission warnings, in order.
	WantWarnings []string
}

// Helpers that keep the tables short.

func intBound(v int32) *intstr.IntOrString { return ptr.To(intstr.FromInt32(v)) }

func percentBound(s string) *intstr.IntOrString { return ptr.To(intstr.FromString(s)) }

func rollingUpdate(maxUnavailable, maxSurge *intstr.IntOrString) v1alpha1.NodeAgentSetUpdateStrategy {
	return v1alpha1.NodeAgentSetUpdateStrategy{
		Type:          v1alpha1.RollingUpdateStrategyType,
		RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{MaxUnavailable: maxUnavailable, MaxSurge: maxSurge},
	}
}

func podSpec(set *v1alpha1.NodeAgentSet) *corev1.PodSpec { return &set.Spec.Template.Spec }

func requiredNodeAffinity(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func nodeLabelTerm(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

// withCanary gives the set a rolling update with a canary changed by mutate.
func withCanary(set *v1alpha1.NodeAgentSet, mutate func(*v1alpha1.NodeAgentSetCanary)) {
	set.Spec.UpdateStrategy = rollingUpdate(nil, nil)
	canary := &v1alpha1.NodeAgentSetCanary{}
	mutate(canary)
	set.Spec.UpdateStrategy.RollingUpdate.Canary = canary
}

// override is a node override of the given containers with the same resources, selecting m7i.8xlarge nodes.
func override(name string, resources corev1.ResourceRequirements, containers ...string) v1alpha1.NodeOverride {
	o := v1alpha1.NodeOverride{
		Name:         name,
		NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"node.kubernetes.io/instance-type": "m7i.8xlarge"}},
	}
	for _, c := range containers {
		co := v1alpha1.ContainerOverride{Name: c, Env: []corev1.EnvVar{{Name: "GOMAXPROCS", Value: "8"}}}
		if resources.Requests != nil || resources.Limits != nil {
			co.Resources = resources.DeepCopy()
		}
		o.Containers = append(o.Containers, co)
	}
	return o
}

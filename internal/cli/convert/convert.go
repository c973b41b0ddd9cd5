package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Annotations that describe the DaemonSet object itself, not the agent: kubectl's copy of the last applied
// manifest (it would make a later `kubectl apply` of the NodeAgentSet compute a wrong diff) and the API server's
// template generation counter for DaemonSets.
const (
	lastAppliedAnnotation        = "kubectl.kubernetes.io/last-applied-configuration"
	templateGenerationAnnotation = "deprecated.daemonset.template.generation"
)

// FromDaemonSet returns the NodeAgentSet that runs what ds runs: the same name, namespace, labels, annotations
// (except kubectl's last-applied configuration and the DaemonSet's template generation), selector, pod template,
// update strategy, minReadySeconds and revisionHistoryLimit. The set records the DaemonSet in MigratedFromAnnotation:
// its UID when ds was read from a cluster, its name for a manifest (so `kubectl nas migrate` may finish the job once
// the set is applied, for instance by a GitOps tool). ds is not modified.
func FromDaemonSet(ds *appsv1.DaemonSet) (*v1alpha1.NodeAgentSet, error) {
	if ds.Spec.Selector == nil {
		return nil, fmt.Errorf("daemonset %q: spec.selector: Required value", ds.Name)
	}
	set := &v1alpha1.NodeAgentSet{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "NodeAgentSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ds.Name,
			Namespace: ds.Namespace,
			Labels:    copyMap(ds.Labels),
		},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector:             ds.Spec.Selector.DeepCopy(),
			Template:             *ds.Spec.Template.DeepCopy(),
			MinReadySeconds:      ds.Spec.MinReadySeconds,
			RevisionHistoryLimit: copyInt32(ds.Spec.RevisionHistoryLimit),
		},
	}
	annotations := copyMap(ds.Annotations)
	delete(annotations, lastAppliedAnnotation)
	delete(annotations, templateGenerationAnnotation)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[v1alpha1.MigratedFromAnnotation] = ds.Name
	if ds.UID != "" {
		annotations[v1alpha1.MigratedFromAnnotation] = string(ds.UID)
	}
	set.Annotations = annotations
	switch ds.Spec.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		set.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
	case appsv1.RollingUpdateDaemonSetStrategyType, "":
		if ds.Spec.UpdateStrategy.Type != "" {
			set.Spec.UpdateStrategy.Type = v1alpha1.RollingUpdateStrategyType
		}
		if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			set.Spec.UpdateStrategy.RollingUpdate = &v1alpha1.RollingUpdateNodeAgentSet{
				MaxUnavailable: copyIntOrString(ru.MaxUnavailable),
				MaxSurge:       copyIntOrString(ru.MaxSurge),
			}
		}
	default:
		return nil, fmt.Errorf("daemonset %q: spec.updateStrategy.type: Unsupported value: %q: supported values: %q, %q",
			ds.Name, ds.Spec.UpdateStrategy.Type, appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType)
	}
	return set, nil
}

// ToYAML renders sets as a YAML stream (documents separated by ---), with only the fields a manifest for a GitOps
// repository holds: apiVersion, kind, metadata (name, namespace, labels, annotations) and spec.
func ToYAML(sets []*v1alpha1.NodeAgentSet) ([]byte, error) {
	var buf bytes.Buffer
	for i, set := range sets {
		raw, err := json.Marshal(set.Spec)
		if err != nil {
			return nil, err
		}
		var spec map[string]any
		if err := json.Unmarshal(raw, &spec); err != nil {
			return nil, err
		}
		if template, ok := spec["template"].(map[string]any); ok {
			if meta, ok := template["metadata"].(map[string]any); ok {
				delete(meta, "creationTimestamp")
			}
		}
		metadata := map[string]any{"name": set.Name}
		if set.Namespace != "" {
			metadata["namespace"] = set.Namespace
		}
		if len(set.Labels) > 0 {
			metadata["labels"] = set.Labels
		}
		if len(set.Annotations) > 0 {
			metadata["annotations"] = set.Annotations
		}
		out, err := yaml.Marshal(map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(),
			"kind":       "NodeAgentSet",
			"metadata":   metadata,
			"spec":       spec,
		})
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

var daemonSetKind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}

// ReadDaemonSets reads every document of a YAML or JSON stream (source names it in errors) as an apps/v1
// DaemonSet; a document of another kind, or none at all, is an error naming it.
func ReadDaemonSets(r io.Reader, source string) ([]*appsv1.DaemonSet, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*appsv1.DaemonSet
	for doc := 1; ; doc++ {
		var raw map[string]any
		if err := decoder.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
		}
		if raw == nil {
			continue
		}
		apiVersion, _ := raw["apiVersion"].(string)
		kind, _ := raw["kind"].(string)
		if gv, err := schema.ParseGroupVersion(apiVersion); err != nil || gv.WithKind(kind) != daemonSetKind {
			return nil, fmt.Errorf("%s: document %d: kind %q of apiVersion %q is not a DaemonSet (apps/v1)", source, doc, kind, apiVersion)
		}
		data, err := yaml.Marshal(raw)
		if err != nil {
			return nil, err
		}
		ds := &appsv1.DaemonSet{}
		if err := yaml.UnmarshalStrict(data, ds); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
		}
		out = append(out, ds)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no DaemonSet found", source)
	}
	return out, nil
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyIntOrString(p *intstr.IntOrString) *intstr.IntOrString {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

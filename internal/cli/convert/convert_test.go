package convert

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

const fluentd = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  uid: 0b5c5a43-0000-4000-8000-000000000001
  labels: {k8s-app: fluentd-logging}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apps/v1"}'
    deprecated.daemonset.template.generation: "3"
    example.com/team: logging
spec:
  selector:
    matchLabels: {name: fluentd-elasticsearch}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 2, maxSurge: 0}
  minReadySeconds: 10
  revisionHistoryLimit: 4
  template:
    metadata:
      labels: {name: fluentd-elasticsearch}
    spec:
      tolerations:
      - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v5.0.1
        resources:
          limits: {memory: 200Mi}
          requests: {cpu: 100m, memory: 200Mi}
status:
  numberReady: 5
`

func TestFromDaemonSet(t *testing.T) {
	dss, err := ReadDaemonSets(strings.NewReader(fluentd), "ds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := FromDaemonSet(dss[0])
	if err != nil {
		t.Fatal(err)
	}
	ds := dss[0]
	if set.Name != ds.Name || set.Namespace != ds.Namespace || !equality.Semantic.DeepEqual(set.Labels, ds.Labels) {
		t.Errorf("metadata = %+v", set.ObjectMeta)
	}
	wantAnnotations := map[string]string{"example.com/team": "logging", v1alpha1.MigratedFromAnnotation: string(ds.UID)}
	if !equality.Semantic.DeepEqual(set.Annotations, wantAnnotations) {
		t.Errorf("annotations = %v, want %v", set.Annotations, wantAnnotations)
	}
	if !equality.Semantic.DeepEqual(set.Spec.Template, ds.Spec.Template) || !equality.Semantic.DeepEqual(set.Spec.Selector, ds.Spec.Selector) {
		t.Error("template or selector not copied")
	}
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if set.Spec.UpdateStrategy.Type != v1alpha1.RollingUpdateStrategyType || ru == nil || ru.MaxUnavailable.IntValue() != 2 || ru.MaxSurge.IntValue() != 0 {
		t.Errorf("updateStrategy = %+v", set.Spec.UpdateStrategy)
	}
	if set.Spec.MinReadySeconds != 10 || *set.Spec.RevisionHistoryLimit != 4 {
		t.Errorf("minReadySeconds %d, revisionHistoryLimit %d", set.Spec.MinReadySeconds, *set.Spec.RevisionHistoryLimit)
	}
	ds.Spec.Template.Spec.Containers[0].Image = "changed"
	if set.Spec.Template.Spec.Containers[0].Image == "changed" {
		t.Error("the set shares the DaemonSet's template")
	}

	out, err := ToYAML([]*v1alpha1.NodeAgentSet{set, set})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"apiVersion: apps.nodeagentset.io/v1alpha1\n", "kind: NodeAgentSet\n", "\n---\n", "minReadySeconds: 10"} {
		if !strings.Contains(text, want) {
			t.Errorf("YAML lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"status:", "creationTimestamp", "last-applied"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("YAML has %q:\n%s", unwanted, text)
		}
	}
}

func TestFromDaemonSetOnDelete(t *testing.T) {
	ds := &appsv1.DaemonSet{}
	ds.Name = "agent"
	ds.Spec.Selector = nil
	if _, err := FromDaemonSet(ds); err == nil || !strings.Contains(err.Error(), "spec.selector") {
		t.Errorf("missing selector: err = %v", err)
	}
	dss, _ := ReadDaemonSets(strings.NewReader(fluentd), "ds.yaml")
	dss[0].Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	set, err := FromDaemonSet(dss[0])
	if err != nil || set.Spec.UpdateStrategy.Type != v1alpha1.OnDeleteStrategyType || set.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete: %+v, %v", set.Spec.UpdateStrategy, err)
	}
}

func TestConvertedManifestNamesItsDaemonSet(t *testing.T) {
	dss, _ := ReadDaemonSets(strings.NewReader(fluentd), "ds.yaml")
	dss[0].UID = ""
	set, err := FromDaemonSet(dss[0])
	if err != nil || set.Annotations[v1alpha1.MigratedFromAnnotation] != "fluentd-elasticsearch" {
		t.Errorf("annotations = %v, %v", set.Annotations, err)
	}
}

func TestReadDaemonSetsErrors(t *testing.T) {
	for _, tt := range []struct{ name, input, want string }{
		{"another kind", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", `ds.yaml: document 1: kind "ConfigMap" of apiVersion "v1" is not a DaemonSet (apps/v1)`},
		{"empty", "", "ds.yaml: no DaemonSet found"},
		{"unknown field", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec: {selektor: {}}\n", `unknown field "selektor"`},
		{"second document bad", fluentd + "---\napiVersion: apps/v1\nkind: Deployment\n", "document 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadDaemonSets(strings.NewReader(tt.input), "ds.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

package olm

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// fixture is a minimal rendered install: base CSV, CRD, service account, a bound and an unbound ClusterRole, the
// manager Deployment with a cert-manager volume, a webhook Service and configuration, and the certificate.
const fixture = `
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: nodeagentset.v0.0.0, namespace: placeholder}
spec:
  displayName: NodeAgentSet
  installModes: [{type: AllNamespaces, supported: true}]
  install: {strategy: deployment, spec: {deployments: []}}
  customresourcedefinitions:
    owned:
    - name: widgets.example.io
      version: v1
      kind: Widget
      description: A widget.
      specDescriptors: [{path: size, displayName: Size}]
      statusDescriptors: [{path: ready, displayName: Ready}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {ready: {type: boolean}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: mgr, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mgr-role}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mgr-binding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mgr-role}
subjects: [{kind: ServiceAccount, name: mgr, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: [{nonResourceURLs: [/metrics], verbs: [get]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: mgr, namespace: ops, labels: {app: mgr}}
spec:
  selector: {matchLabels: {app: mgr}}
  template:
    metadata: {labels: {app: mgr}}
    spec:
      serviceAccountName: mgr
      containers:
      - name: manager
        image: controller:latest
        volumeMounts: [{name: certs, mountPath: /tmp/k8s-webhook-server/serving-certs}]
      volumes: [{name: certs, secret: {secretName: webhook-server-cert}}]
---
apiVersion: v1
kind: Service
metadata: {name: webhook, namespace: ops}
spec: {ports: [{port: 443, targetPort: 9443}], selector: {app: mgr}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: vwc}
webhooks:
- name: validate.widgets.example.io
  clientConfig: {service: {name: webhook, namespace: ops, path: /validate}}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: cert, namespace: ops}
spec: {secretName: webhook-server-cert}
`

func fixtureInput(t *testing.T, edit func(string) string) Input {
	t.Helper()
	src := fixture
	if edit != nil {
		src = edit(src)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(src, "\n---\n") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	sample := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.io/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "x"},
	}}
	return Input{Objects: objs, Samples: []*unstructured.Unstructured{sample}, Version: "1.2.3",
		Image: "registry.example.com/mgr:v1.2.3", Channels: []string{"candidate"}, DefaultChannel: "candidate"}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		input   func(*Input)
		wantErr string
	}{
		{
			name:    "a spec descriptor for a field the CRD does not have",
			edit:    func(s string) string { return strings.Replace(s, "{path: size,", "{path: colour,", 1) },
			wantErr: `specDescriptor path "colour" is not a field of spec`,
		},
		{
			name: "a rendered CRD the base CSV does not own",
			edit: func(s string) string {
				return strings.Replace(s, "- name: widgets.example.io", "- name: gadgets.example.io", 1)
			},
			wantErr: "CustomResourceDefinition widgets.example.io is not in the base CSV's spec.customresourcedefinitions.owned",
		},
		{
			name:    "an owned CRD without a description",
			edit:    func(s string) string { return strings.Replace(s, "description: A widget.", "description: ''", 1) },
			wantErr: "description is empty",
		},
		{
			name: "a webhook whose Service is not rendered",
			edit: func(s string) string {
				return strings.Replace(s, "service: {name: webhook,", "service: {name: elsewhere,", 1)
			},
			wantErr: `clientConfig.service.name "elsewhere" is not a rendered Service`,
		},
		{
			name:    "a version that is not semantic",
			input:   func(in *Input) { in.Version = "1.2" },
			wantErr: `version "1.2" is not a semantic version`,
		},
		{
			name:    "a default channel outside the channels",
			input:   func(in *Input) { in.DefaultChannel = "stable" },
			wantErr: `default channel "stable" is not one of the channels`,
		},
		{
			name:    "no samples",
			input:   func(in *Input) { in.Samples = nil },
			wantErr: "no samples for alm-examples",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixtureInput(t, tt.edit)
			if tt.input != nil {
				tt.input(&in)
			}
			_, err := Build(in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildFoldsTheInstallIntoTheCSV(t *testing.T) {
	b, err := Build(fixtureInput(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	csv := b.CSV
	if csv.Name != "nodeagentset.v1.2.3" || csv.Annotations["containerImage"] != "registry.example.com/mgr:v1.2.3" {
		t.Errorf("CSV %s image %s", csv.Name, csv.Annotations["containerImage"])
	}
	if !strings.Contains(csv.Annotations["alm-examples"], `"name": "w"`) || strings.Contains(csv.Annotations["alm-examples"], `"namespace"`) {
		t.Errorf("alm-examples %s: want the sample without its namespace", csv.Annotations["alm-examples"])
	}
	spec := csv.Spec.InstallStrategy.StrategySpec
	if len(spec.DeploymentSpecs) != 1 {
		t.Fatalf("%d deployments", len(spec.DeploymentSpecs))
	}
	pod := spec.DeploymentSpecs[0].Spec.Template.Spec
	if len(pod.Volumes) != 0 || len(pod.Containers[0].VolumeMounts) != 0 {
		t.Errorf("the cert-manager volume stayed: %+v %+v", pod.Volumes, pod.Containers[0].VolumeMounts)
	}
	if pod.Containers[0].Image != "registry.example.com/mgr:v1.2.3" {
		t.Errorf("manager image %s", pod.Containers[0].Image)
	}
	if len(spec.ClusterPermissions) != 1 || spec.ClusterPermissions[0].ServiceAccountName != "mgr" ||
		len(spec.ClusterPermissions[0].Rules) != 1 {
		t.Errorf("clusterPermissions %+v, want mgr-role's rule for service account mgr", spec.ClusterPermissions)
	}
	if len(csv.Spec.WebhookDefinitions) != 1 {
		t.Fatalf("%d webhook definitions", len(csv.Spec.WebhookDefinitions))
	}
	wh := csv.Spec.WebhookDefinitions[0]
	if wh.DeploymentName != "mgr" || wh.ContainerPort != 443 || wh.TargetPort.IntValue() != 9443 || *wh.WebhookPath != "/validate" {
		t.Errorf("webhook definition %+v", wh)
	}
	var names []string
	for _, f := range b.Manifests {
		names = append(names, f.Name)
		if ns, _, _ := unstructured.NestedString(f.Object, "metadata", "namespace"); ns != "" {
			t.Errorf("%s keeps namespace %q; OLM picks the namespace", f.Name, ns)
		}
	}
	want := "example.io_widgets.yaml reader_rbac.authorization.k8s.io_v1_clusterrole.yaml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("bundle manifests %q, want %q (the SA, bound role, Deployment, webhook Service and certificate are OLM's)", got, want)
	}
}

package packaging

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	interfaces "github.com/operator-framework/api/pkg/validation/interfaces"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/nodeagentset/nodeagentset/hack/packaging/olm"
	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

const (
	bundleVersion = "0.1.0"
	bundleImage   = "registry.example.com/nodeagentset/manager:v0.1.0"
)

// writeBundle runs the command behind `make bundle` with its output in a temporary directory, and returns that
// directory.
func writeBundle(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./hack/packaging/cmd/bundle", "--version", bundleVersion, "--image", bundleImage,
		"--out", filepath.Join(dir, "bundle"), "--dockerfile", filepath.Join(dir, "bundle.Dockerfile"))
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bundle: %v\n%s", err, msg)
	}
	return dir
}

// knownFalseWarnings are validator warnings that do not apply, each with the reason.
var knownFalseWarnings = []struct{ contains, why string }{{
	// The deprecated-API check flags every RBAC rule on events.k8s.io events, as it cannot tell the API version
	// from a rule; the controller records events through events.k8s.io/v1, which is not deprecated.
	contains: "Migrate the API(s) for events: ([\"ClusterServiceVersion.Spec.InstallStrategy.StrategySpec.ClusterPermissions",
	why:      "RBAC for events.k8s.io/v1 events",
}}

// TestBundlePassesOperatorFrameworkValidation runs the checks `operator-sdk bundle validate` runs by default plus
// the optional OperatorHub, good-practices and object suites, and accepts no errors and no warnings other than the
// known false ones.
func TestBundlePassesOperatorFrameworkValidation(t *testing.T) {
	dir := writeBundle(t)
	bundle, err := manifests.GetBundleFromDir(filepath.Join(dir, "bundle"))
	if err != nil {
		t.Fatalf("loading the bundle: %v", err)
	}
	validators := append(interfaces.Validators{}, validation.DefaultBundleValidators...)
	validators = append(validators,
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.ObjectValidator,
		validation.AlphaDeprecatedAPIsValidator,
	)
	// The oldest Kubernetes the CSV supports: the deprecated-API check then fails on APIs removed by then.
	objs := append(bundle.ObjectsToValidate(), map[string]string{"k8s-version": "1.30"})
	for _, result := range validators.Validate(objs...) {
		for _, e := range result.Errors {
			t.Errorf("%s: error: %s", result.Name, e.Error())
		}
	warnings:
		for _, w := range result.Warnings {
			for _, known := range knownFalseWarnings {
				if strings.Contains(w.Error(), known.contains) {
					t.Logf("%s: ignored warning (%s): %s", result.Name, known.why, w.Error())
					continue warnings
				}
			}
			t.Errorf("%s: warning: %s", result.Name, w.Error())
		}
	}
}

func TestBundleContents(t *testing.T) {
	root := repoRoot(t)
	dir := writeBundle(t)
	bundle, err := manifests.GetBundleFromDir(filepath.Join(dir, "bundle"))
	if err != nil {
		t.Fatal(err)
	}
	csv := bundle.CSV

	t.Run("name, version and image", func(t *testing.T) {
		if csv.Name != "nodeagentset.v"+bundleVersion || csv.Spec.Version.String() != bundleVersion {
			t.Errorf("CSV %s version %s, want nodeagentset.v%s", csv.Name, csv.Spec.Version.String(), bundleVersion)
		}
		if csv.Annotations["containerImage"] != bundleImage {
			t.Errorf("containerImage %q, want %q", csv.Annotations["containerImage"], bundleImage)
		}
		deployments := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
		if len(deployments) != 1 || deployments[0].Spec.Template.Spec.Containers[0].Image != bundleImage {
			t.Errorf("install strategy deployments %d, want one running %s", len(deployments), bundleImage)
		}
		if csv.Spec.MinKubeVersion == "" {
			t.Error("minKubeVersion is empty")
		}
	})

	t.Run("owned CRD with description and descriptors", func(t *testing.T) {
		owned := csv.Spec.CustomResourceDefinitions.Owned
		if len(owned) != 1 || owned[0].Name != "nodeagentsets.apps.nodeagentset.io" || owned[0].Kind != "NodeAgentSet" {
			t.Fatalf("owned CRDs %+v, want nodeagentsets.apps.nodeagentset.io", owned)
		}
		if owned[0].Description == "" || len(owned[0].SpecDescriptors) == 0 || len(owned[0].StatusDescriptors) == 0 {
			t.Error("the owned CRD lacks a description, spec descriptors or status descriptors")
		}
		if len(bundle.V1CRDs) != 1 {
			t.Errorf("%d CRDs in the bundle, want 1", len(bundle.V1CRDs))
		}
	})

	t.Run("alm-examples are the samples", func(t *testing.T) {
		var examples []map[string]any
		if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples); err != nil {
			t.Fatalf("alm-examples: %v", err)
		}
		samples, err := render.Samples(root, "NodeAgentSet")
		if err != nil {
			t.Fatal(err)
		}
		if len(examples) != len(samples) || len(samples) == 0 {
			t.Fatalf("%d examples for %d samples", len(examples), len(samples))
		}
		for i, ex := range examples {
			u := unstructured.Unstructured{Object: ex}
			if u.GetKind() != "NodeAgentSet" || u.GetName() != samples[i].GetName() {
				t.Errorf("example %d is %s %s, want NodeAgentSet %s", i, u.GetKind(), u.GetName(), samples[i].GetName())
			}
		}
	})

	t.Run("install modes: all namespaces only", func(t *testing.T) {
		for _, m := range csv.Spec.InstallModes {
			if want := m.Type == operatorsv1alpha1.InstallModeTypeAllNamespaces; m.Supported != want {
				t.Errorf("install mode %s supported=%v, want %v", m.Type, m.Supported, want)
			}
		}
	})

	t.Run("webhook definitions point at the manager", func(t *testing.T) {
		defs := csv.Spec.WebhookDefinitions
		types := map[operatorsv1alpha1.WebhookAdmissionType]int{}
		for _, d := range defs {
			types[d.Type]++
			if d.DeploymentName != csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[0].Name {
				t.Errorf("webhook %s targets deployment %q", d.GenerateName, d.DeploymentName)
			}
			if d.TargetPort == nil || d.TargetPort.IntValue() != 9443 || d.WebhookPath == nil || *d.WebhookPath == "" {
				t.Errorf("webhook %s: targetPort %v path %v, want 9443 and the handler path", d.GenerateName, d.TargetPort, d.WebhookPath)
			}
		}
		if types[operatorsv1alpha1.ValidatingAdmissionWebhook] == 0 || types[operatorsv1alpha1.MutatingAdmissionWebhook] == 0 {
			t.Errorf("webhook definitions %v, want a validating and a mutating one", types)
		}
	})

	t.Run("OLM owns certificates, service account and webhook service", func(t *testing.T) {
		for _, obj := range bundle.Objects {
			switch obj.GetKind() {
			case "Certificate", "Issuer", "ServiceAccount", "Namespace", "Deployment",
				"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
				t.Errorf("%s %s must not be a bundle manifest: OLM creates it", obj.GetKind(), obj.GetName())
			case "Service":
				if strings.Contains(obj.GetName(), "webhook") {
					t.Errorf("Service %s must not be a bundle manifest: OLM creates the webhook Service", obj.GetName())
				}
			}
		}
		pod := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[0].Spec.Template.Spec
		for _, v := range pod.Volumes {
			if v.Secret != nil && v.Secret.SecretName == "webhook-server-cert" {
				t.Errorf("volume %s mounts cert-manager's Secret; OLM mounts its own certificate", v.Name)
			}
		}
	})

	t.Run("metadata and bundle.Dockerfile agree", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(dir, "bundle", "metadata", "annotations.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Annotations map[string]string `json:"annotations"`
		}
		if err := yaml.UnmarshalStrict(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Annotations[olm.AnnotationPackage] != "nodeagentset" || meta.Annotations[olm.AnnotationMediaType] != "registry+v1" {
			t.Errorf("annotations %v", meta.Annotations)
		}
		dockerfile, err := os.ReadFile(filepath.Join(dir, "bundle.Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(dockerfile), "\n")
		for k, v := range meta.Annotations {
			if !slices.Contains(lines, "LABEL "+k+"="+v) {
				t.Errorf("bundle.Dockerfile lacks LABEL %s=%s", k, v)
			}
		}
		for _, want := range []string{"COPY bundle/manifests /manifests/", "COPY bundle/metadata /metadata/"} {
			if !slices.Contains(lines, want) {
				t.Errorf("bundle.Dockerfile lacks %q", want)
			}
		}
	})
}

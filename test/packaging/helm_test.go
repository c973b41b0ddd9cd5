package packaging

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"

	"github.com/nodeagentset/nodeagentset/hack/packaging/helmchart"
	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

const chartDir = "charts/nodeagentset"

// TestHelmChartIsGenerated keeps charts/nodeagentset what `make helm-chart` writes from config/default, so the
// chart cannot drift from the kustomize install.
func TestHelmChartIsGenerated(t *testing.T) {
	root := repoRoot(t)
	chartYAML, err := os.ReadFile(filepath.Join(root, chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(chartYAML, &meta); err != nil {
		t.Fatal(err)
	}
	want, err := helmchart.Generate(root, meta.Version)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = filepath.WalkDir(filepath.Join(root, chartDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, chartDir), path)
		got[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for path, data := range want {
		if !bytes.Equal(got[path], data) {
			stale = append(stale, path)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			stale = append(stale, path+" (not generated)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("charts/nodeagentset differs from config/default in %v: run `make helm-chart`", stale)
	}
}

// TestHelmLint runs Helm's own chart linter, with both certificate modes.
func TestHelmLint(t *testing.T) {
	for _, values := range []map[string]any{nil, {"certManager": map[string]any{"enabled": false}}} {
		linter := lint.All(filepath.Join(repoRoot(t), chartDir), values, "nodeagentset-system", true)
		for _, m := range linter.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint (values %v): %s", values, m)
			}
		}
	}
}

// helmTemplate renders the chart as `helm template` does (the Helm SDK's install action, client only).
func helmTemplate(namespace string, values map[string]any) []*unstructured.Unstructured {
	GinkgoHelper()
	chrt, err := loader.Load(filepath.Join(repoRoot(GinkgoT()), chartDir))
	Expect(err).NotTo(HaveOccurred())
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = "nodeagentset"
	install.Namespace = namespace
	// As `helm template --kube-version`: the chart's kubeVersion is checked against the test API server's.
	discovery, err := discovery.NewDiscoveryClientForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	server, err := discovery.ServerVersion()
	Expect(err).NotTo(HaveOccurred())
	install.KubeVersion, err = chartutil.ParseKubeVersion(server.GitVersion)
	Expect(err).NotTo(HaveOccurred())
	rel, err := install.Run(chrt, values)
	Expect(err).NotTo(HaveOccurred())
	objs, err := render.Decode([]byte(rel.Manifest))
	Expect(err).NotTo(HaveOccurred())
	return objs
}

// comparable drops what differs by design between the two installs: the managed-by label (kustomize or Helm).
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	labels := c.GetLabels()
	delete(labels, "app.kubernetes.io/managed-by")
	if len(labels) == 0 {
		labels = nil
	}
	c.SetLabels(labels)
	return c.Object
}

func byKindName(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		m[u.GetKind()+"/"+u.GetName()] = u
	}
	return m
}

var _ = Describe("The Helm chart (charts/nodeagentset)", Ordered, func() {
	const releaseNamespace = "nodeagentset-helm"
	imageValues := map[string]any{"repository": "registry.example.com/nodeagentset/manager", "tag": "v0.1.0"}

	BeforeAll(func() {
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}})).To(Succeed())
	})

	It("renders, with the defaults, the objects config/default renders", func() {
		kustomized, err := render.Objects(render.Options{RepoRoot: repoRoot(GinkgoT()), Dir: "config/default",
			Image: "registry.example.com/nodeagentset/manager:v0.1.0"})
		Expect(err).NotTo(HaveOccurred())
		want := map[string]any{}
		for _, u := range kustomized {
			if u.GetKind() == "Namespace" || u.GetKind() == "CustomResourceDefinition" {
				continue // helm install --create-namespace; the chart's crds/ (below)
			}
			want[u.GetKind()+"/"+u.GetName()] = comparable(u)
		}
		got := map[string]any{}
		for k, u := range byKindName(helmTemplate("nodeagentset-system", map[string]any{"image": imageValues})) {
			got[k] = comparable(u)
		}
		Expect(got).To(Equal(want))

		crd, err := os.ReadFile(filepath.Join(repoRoot(GinkgoT()), chartDir, "crds", "nodeagentsets.apps.nodeagentset.io.yaml"))
		Expect(err).NotTo(HaveOccurred())
		fromChart, err := render.Decode(crd)
		Expect(err).NotTo(HaveOccurred())
		for _, u := range kustomized {
			if u.GetKind() == "CustomResourceDefinition" {
				Expect(fromChart).To(HaveLen(1))
				Expect(fromChart[0].Object).To(Equal(u.Object), "the chart's CRD is config/crd's")
			}
		}
	})

	It("takes image, replicas, resources, log level, QPS and burst, and metrics from values", func() {
		objs := byKindName(helmTemplate(releaseNamespace, map[string]any{
			"image":     map[string]any{"repository": "example.com/nas", "tag": "v9", "pullPolicy": "Always"},
			"replicas":  1,
			"resources": map[string]any{"requests": map[string]any{"cpu": "50m"}},
			"logLevel":  "debug",
			"kubeAPI":   map[string]any{"qps": 50, "burst": 100},
			"metrics":   map[string]any{"enabled": false},
		}))
		deploy := objs["Deployment/nodeagentset-controller-manager"]
		Expect(deploy).NotTo(BeNil())
		Expect(deploy.GetNamespace()).To(Equal(releaseNamespace))
		replicas, _, _ := unstructured.NestedFieldNoCopy(deploy.Object, "spec", "replicas")
		Expect(replicas).To(BeEquivalentTo(1))
		containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
		manager := containers[0].(map[string]any)
		Expect(manager["image"]).To(Equal("example.com/nas:v9"))
		Expect(manager["imagePullPolicy"]).To(Equal("Always"))
		// Helm merges values maps: the given request replaces the default's, the rest stays.
		Expect(manager["resources"]).To(Equal(map[string]any{
			"requests": map[string]any{"cpu": "50m", "memory": "64Mi"},
			"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
		}))
		Expect(manager["args"]).To(ContainElements("--zap-log-level=debug", "--kube-api-qps=50", "--kube-api-burst=100",
			"--metrics-bind-address=0", "--leader-elect"))
		Expect(objs).NotTo(HaveKey("Service/nodeagentset-controller-manager-metrics-service"))
		Expect(objs).NotTo(HaveKey("PodDisruptionBudget/nodeagentset-controller-manager"), "one replica, no PDB")
	})

	It("generates a CA and a serving certificate for the webhooks without cert-manager", func() {
		objs := byKindName(helmTemplate(releaseNamespace, map[string]any{"certManager": map[string]any{"enabled": false}}))
		Expect(objs).NotTo(HaveKey("Certificate/nodeagentset-serving-cert"))
		Expect(objs).NotTo(HaveKey("Issuer/nodeagentset-selfsigned-issuer"))
		secret := objs["Secret/webhook-server-cert"]
		Expect(secret).NotTo(BeNil())
		data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
		decode := func(key string) []byte {
			raw, err := base64.StdEncoding.DecodeString(data[key])
			Expect(err).NotTo(HaveOccurred(), key)
			return raw
		}
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(decode("ca.crt"))).To(BeTrue())
		block, _ := pem.Decode(decode("tls.crt"))
		Expect(block).NotTo(BeNil())
		cert, err := x509.ParseCertificate(block.Bytes)
		Expect(err).NotTo(HaveOccurred())
		_, err = cert.Verify(x509.VerifyOptions{Roots: pool,
			DNSName: "nodeagentset-webhook-service." + releaseNamespace + ".svc"})
		Expect(err).NotTo(HaveOccurred(), "the serving certificate is signed by the CA for the webhook Service's name")

		for _, kind := range []string{"MutatingWebhookConfiguration/nodeagentset-mutating-webhook-configuration",
			"ValidatingWebhookConfiguration/nodeagentset-validating-webhook-configuration"} {
			cfg := objs[kind]
			Expect(cfg).NotTo(BeNil(), kind)
			Expect(cfg.GetAnnotations()).NotTo(HaveKey("cert-manager.io/inject-ca-from"))
			webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
			for _, w := range webhooks {
				bundle, _, _ := unstructured.NestedString(w.(map[string]any), "clientConfig", "caBundle")
				Expect(bundle).To(Equal(data["ca.crt"]), "%s trusts the generated CA", kind)
			}
		}
	})

	DescribeTable("server-side applies every rendered object as a dry run, with no error and no warning",
		func(values map[string]any) {
			warnings.take()
			for _, u := range helmTemplate(releaseNamespace, values) {
				_, err := resourceFor(u).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{
					FieldManager: "helm-test", Force: true, DryRun: []string{metav1.DryRunAll}})
				Expect(err).NotTo(HaveOccurred(), "%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
				Expect(warnings.take()).To(BeEmpty(), "warnings for %s %s", u.GetKind(), u.GetName())
				Expect(strings.HasPrefix(u.GetName(), "nodeagentset-") || u.GetName() == "webhook-server-cert").To(BeTrue(), u.GetName())
			}
		},
		Entry("with cert-manager", map[string]any{"image": imageValues}),
		Entry("with the chart's own certificate", map[string]any{"image": imageValues, "certManager": map[string]any{"enabled": false}}),
	)
})

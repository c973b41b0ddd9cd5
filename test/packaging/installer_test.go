package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

const (
	installNamespace = "nodeagentset-system"
	testImage        = "registry.example.com:5000/nodeagentset/manager:v0.1.0"
)

// installation is config/default rendered, with its objects decoded by kind.
type installation struct {
	objects    []*unstructured.Unstructured
	deployment *appsv1.Deployment
	services   map[string]*corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	sa         string
	roles      map[string][]rbacv1.PolicyRule // "Role/name" or "ClusterRole/name"
	bindings   []binding
	validating []*admissionregistrationv1.ValidatingWebhookConfiguration
	mutating   []*admissionregistrationv1.MutatingWebhookConfiguration
	certs      []*unstructured.Unstructured
	issuers    map[string]bool
}

type binding struct {
	name     string
	roleRef  string // "Role/name" or "ClusterRole/name"
	subjects []rbacv1.Subject
}

func renderInstallation(t *testing.T) *installation {
	t.Helper()
	objs, err := render.Objects(render.Options{RepoRoot: repoRoot(t), Dir: "config/default", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	in := &installation{objects: objs, services: map[string]*corev1.Service{}, roles: map[string][]rbacv1.PolicyRule{},
		issuers: map[string]bool{}}
	decode := func(u *unstructured.Unstructured, into any) {
		t.Helper()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, u := range objs {
		switch u.GetKind() {
		case "Deployment":
			if in.deployment != nil {
				t.Fatalf("two Deployments rendered: %s and %s", in.deployment.Name, u.GetName())
			}
			in.deployment = &appsv1.Deployment{}
			decode(u, in.deployment)
		case "Service":
			s := &corev1.Service{}
			decode(u, s)
			in.services[s.Name] = s
		case "PodDisruptionBudget":
			in.pdb = &policyv1.PodDisruptionBudget{}
			decode(u, in.pdb)
		case "Role":
			r := &rbacv1.Role{}
			decode(u, r)
			in.roles["Role/"+r.Name] = r.Rules
		case "ClusterRole":
			r := &rbacv1.ClusterRole{}
			decode(u, r)
			in.roles["ClusterRole/"+r.Name] = r.Rules
		case "RoleBinding":
			b := &rbacv1.RoleBinding{}
			decode(u, b)
			in.bindings = append(in.bindings, binding{b.Name, b.RoleRef.Kind + "/" + b.RoleRef.Name, b.Subjects})
		case "ClusterRoleBinding":
			b := &rbacv1.ClusterRoleBinding{}
			decode(u, b)
			in.bindings = append(in.bindings, binding{b.Name, b.RoleRef.Kind + "/" + b.RoleRef.Name, b.Subjects})
		case "ValidatingWebhookConfiguration":
			w := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			decode(u, w)
			in.validating = append(in.validating, w)
		case "MutatingWebhookConfiguration":
			w := &admissionregistrationv1.MutatingWebhookConfiguration{}
			decode(u, w)
			in.mutating = append(in.mutating, w)
		case "Certificate":
			in.certs = append(in.certs, u)
		case "Issuer":
			in.issuers[u.GetName()] = true
		}
	}
	if in.deployment == nil {
		t.Fatal("no Deployment rendered")
	}
	in.sa = in.deployment.Spec.Template.Spec.ServiceAccountName
	return in
}

func (in *installation) manager(t *testing.T) *corev1.Container {
	t.Helper()
	for i := range in.deployment.Spec.Template.Spec.Containers {
		if c := &in.deployment.Spec.Template.Spec.Containers[i]; c.Name == "manager" {
			return c
		}
	}
	t.Fatal("the Deployment has no manager container")
	return nil
}

// rulesOfServiceAccount are the rules of every role bound to the manager's service account.
func (in *installation) rulesOfServiceAccount() []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, b := range in.bindings {
		for _, s := range b.subjects {
			if s.Kind == "ServiceAccount" && s.Name == in.sa && s.Namespace == installNamespace {
				rules = append(rules, in.roles[b.roleRef]...)
			}
		}
	}
	return rules
}

func allows(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if (slices.Contains(r.APIGroups, group) || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
			(slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

func containerPort(c *corev1.Container, target intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if (target.Type == intstr.Int && p.ContainerPort == target.IntVal) || (target.Type == intstr.String && p.Name == target.StrVal) {
			return true
		}
	}
	return false
}

func TestInstallerRendersAWorkingInstall(t *testing.T) {
	in := renderInstallation(t)
	podLabels := labels.Set(in.deployment.Spec.Template.Labels)

	t.Run("every namespaced object is in the install namespace", func(t *testing.T) {
		for _, u := range in.objects {
			switch u.GetKind() {
			case "Namespace":
				if u.GetName() != installNamespace {
					t.Errorf("Namespace %s, want %s", u.GetName(), installNamespace)
				}
			case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
				"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
				if u.GetNamespace() != "" {
					t.Errorf("cluster-scoped %s %s has namespace %q", u.GetKind(), u.GetName(), u.GetNamespace())
				}
			default:
				if u.GetNamespace() != installNamespace {
					t.Errorf("%s %s is in namespace %q, want %s", u.GetKind(), u.GetName(), u.GetNamespace(), installNamespace)
				}
			}
		}
	})

	t.Run("the manager image is the one asked for", func(t *testing.T) {
		if got := in.manager(t).Image; got != testImage {
			t.Errorf("image %q, want %q", got, testImage)
		}
	})

	t.Run("two replicas with leader election", func(t *testing.T) {
		if r := in.deployment.Spec.Replicas; r == nil || *r != 2 {
			t.Errorf("replicas %v, want 2", r)
		}
		if !slices.Contains(in.manager(t).Args, "--leader-elect") {
			t.Errorf("args %q lack --leader-elect", in.manager(t).Args)
		}
		rules := in.rulesOfServiceAccount()
		for _, verb := range []string{"get", "create", "update"} {
			if !allows(rules, "coordination.k8s.io", "leases", verb) {
				t.Errorf("the service account may not %s leases", verb)
			}
		}
	})

	t.Run("hardened pod", func(t *testing.T) {
		pod := in.deployment.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Error("pod securityContext.runAsNonRoot is not true")
		}
		if pod.SecurityContext == nil || pod.SecurityContext.SeccompProfile == nil ||
			pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Error("pod seccompProfile is not RuntimeDefault")
		}
		for _, c := range pod.Containers {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("container %s has no securityContext", c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("container %s: allowPrivilegeEscalation is not false", c.Name)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("container %s: capabilities are not exactly drop ALL", c.Name)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("container %s has no %s request", c.Name, r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					t.Errorf("container %s has no %s limit", c.Name, r)
				}
			}
		}
	})

	t.Run("liveness and readiness on the health probe port", func(t *testing.T) {
		c := in.manager(t)
		if !slices.Contains(c.Args, "--health-probe-bind-address=:8081") {
			t.Errorf("args %q do not bind the health probes to :8081", c.Args)
		}
		for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[name]
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || probe.HTTPGet.Port.IntValue() != 8081 {
				t.Errorf("%s probe is not GET %s on 8081: %+v", name, want, probe)
			}
		}
	})

	t.Run("the PodDisruptionBudget keeps a replica", func(t *testing.T) {
		if in.pdb == nil {
			t.Fatal("no PodDisruptionBudget rendered")
		}
		sel, err := metav1.LabelSelectorAsSelector(in.pdb.Spec.Selector)
		if err != nil || !sel.Matches(podLabels) {
			t.Errorf("PDB selector %v does not select the manager pods %v (%v)", in.pdb.Spec.Selector, podLabels, err)
		}
		if in.pdb.Spec.MinAvailable == nil || in.pdb.Spec.MinAvailable.IntValue() < 1 ||
			in.pdb.Spec.MinAvailable.IntValue() >= int(*in.deployment.Spec.Replicas) {
			t.Errorf("PDB minAvailable %v must be at least 1 and below the replicas, so drains can proceed", in.pdb.Spec.MinAvailable)
		}
	})

	t.Run("metrics are served over HTTPS behind authentication and authorization", func(t *testing.T) {
		c := in.manager(t)
		if !slices.Contains(c.Args, "--metrics-bind-address=:8443") {
			t.Errorf("args %q do not serve metrics on :8443", c.Args)
		}
		if slices.Contains(c.Args, "--metrics-secure=false") {
			t.Error("metrics are served without authentication")
		}
		svc := in.services["nodeagentset-controller-manager-metrics-service"]
		if svc == nil {
			t.Fatal("no metrics Service rendered")
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("metrics Service selector %v does not select the manager pods", svc.Spec.Selector)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8443 || !containerPort(c, svc.Spec.Ports[0].TargetPort) {
			t.Errorf("metrics Service ports %+v do not reach the manager's 8443", svc.Spec.Ports)
		}
		rules := in.rulesOfServiceAccount()
		if !allows(rules, "authentication.k8s.io", "tokenreviews", "create") ||
			!allows(rules, "authorization.k8s.io", "subjectaccessreviews", "create") {
			t.Error("the service account may not create tokenreviews and subjectaccessreviews for the metrics filter")
		}
		reader := in.roles["ClusterRole/nodeagentset-metrics-reader"]
		if len(reader) != 1 || !slices.Equal(reader[0].NonResourceURLs, []string{"/metrics"}) {
			t.Errorf("metrics-reader ClusterRole rules %+v, want GET /metrics", reader)
		}
	})

	t.Run("the manager may do what the controller does", func(t *testing.T) {
		rules := in.rulesOfServiceAccount()
		for _, want := range []struct{ group, resource, verb string }{
			{"apps.nodeagentset.io", "nodeagentsets", "watch"},
			{"apps.nodeagentset.io", "nodeagentsets/status", "update"},
			{"", "pods", "create"},
			{"", "pods", "delete"},
			{"", "nodes", "watch"},
			{"apps", "controllerrevisions", "create"},
		} {
			if !allows(rules, want.group, want.resource, want.verb) {
				t.Errorf("the service account may not %s %s.%s", want.verb, want.resource, want.group)
			}
		}
		for _, b := range in.bindings {
			if _, ok := in.roles[b.roleRef]; !ok {
				t.Errorf("binding %s refers to %s, which is not rendered", b.name, b.roleRef)
			}
		}
	})

	t.Run("webhooks reach the manager with a cert-manager certificate", func(t *testing.T) {
		if len(in.validating)+len(in.mutating) == 0 {
			t.Fatal("no webhook configurations rendered")
		}
		if len(in.certs) != 1 {
			t.Fatalf("%d cert-manager Certificates rendered, want 1", len(in.certs))
		}
		cert := in.certs[0]
		issuer, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
		if !in.issuers[issuer] {
			t.Errorf("Certificate %s: issuerRef.name %q is not a rendered Issuer", cert.GetName(), issuer)
		}
		secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
		mounted := false
		for _, v := range in.deployment.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == secret {
				for _, m := range in.manager(t).VolumeMounts {
					mounted = mounted || (m.Name == v.Name && m.MountPath == "/tmp/k8s-webhook-server/serving-certs")
				}
			}
		}
		if !mounted {
			t.Errorf("the certificate's Secret %q is not mounted where --webhook-cert-path points", secret)
		}
		dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
		wantCA := cert.GetNamespace() + "/" + cert.GetName()

		check := func(kind, name string, annotations map[string]string, webhook string, cc admissionregistrationv1.WebhookClientConfig) {
			if got := annotations["cert-manager.io/inject-ca-from"]; got != wantCA {
				t.Errorf("%s %s: inject-ca-from %q, want %q", kind, name, got, wantCA)
			}
			if cc.Service == nil {
				t.Errorf("webhook %s has no service clientConfig", webhook)
				return
			}
			svc := in.services[cc.Service.Name]
			if svc == nil || cc.Service.Namespace != installNamespace {
				t.Errorf("webhook %s calls Service %s/%s, which is not rendered", webhook, cc.Service.Namespace, cc.Service.Name)
				return
			}
			host := svc.Name + "." + svc.Namespace + ".svc"
			if !slices.Contains(dnsNames, host) || !slices.Contains(dnsNames, host+".cluster.local") {
				t.Errorf("certificate dnsNames %q do not name %s", dnsNames, host)
			}
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
				t.Errorf("webhook Service %s selector %v does not select the manager pods", svc.Name, svc.Spec.Selector)
			}
			port := int32(443)
			if cc.Service.Port != nil {
				port = *cc.Service.Port
			}
			reached := false
			for _, p := range svc.Spec.Ports {
				reached = reached || (p.Port == port && containerPort(in.manager(t), p.TargetPort))
			}
			if !reached {
				t.Errorf("webhook %s: Service %s port %d does not lead to a manager container port", webhook, svc.Name, port)
			}
		}
		for _, w := range in.validating {
			for _, h := range w.Webhooks {
				check("ValidatingWebhookConfiguration", w.Name, w.Annotations, h.Name, h.ClientConfig)
				if h.FailurePolicy == nil || *h.FailurePolicy != admissionregistrationv1.Fail {
					t.Errorf("validating webhook %s: failurePolicy is not Fail", h.Name)
				}
			}
		}
		for _, w := range in.mutating {
			for _, h := range w.Webhooks {
				check("MutatingWebhookConfiguration", w.Name, w.Annotations, h.Name, h.ClientConfig)
			}
		}
	})
}

// TestCRDFitsClientSideApply: `kubectl apply -f` without --server-side stores the whole object in the
// last-applied-configuration annotation, and annotations may not exceed 256 KiB in total.
func TestCRDFitsClientSideApply(t *testing.T) {
	in := renderInstallation(t)
	for _, u := range in.objects {
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		data, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		const limit = 256 * 1024
		if len(data) >= limit {
			t.Errorf("CRD %s is %d bytes as JSON; kubectl apply without --server-side needs it below %d", u.GetName(), len(data), limit)
		}
		t.Logf("CRD %s: %d bytes as JSON (limit %d)", u.GetName(), len(data), limit)
	}
}

// TestBuildInstallerWritesDistInstallYAML runs the command behind `make build-installer`, writing to a temporary
// file instead of dist/install.yaml, and checks it is the render of config/default in an order kubectl apply can
// follow.
func TestBuildInstallerWritesDistInstallYAML(t *testing.T) {
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "install.yaml")
	cmd := exec.Command("go", "run", "./hack/packaging/cmd/installer", "--image", testImage, "--out", out)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("installer: %v\n%s", err, msg)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := render.YAML(render.Options{RepoRoot: root, Dir: "config/default", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	if string(written) != string(want) {
		t.Error("the installer's output differs from the render of config/default")
	}
	objs, err := render.Decode(written)
	if err != nil {
		t.Fatal(err)
	}
	if first := objs[0]; first.GetKind() != "Namespace" {
		t.Errorf("first object is %s %s; the Namespace must come first for kubectl apply -f", first.GetKind(), first.GetName())
	}
	if last := objs[len(objs)-1]; !strings.HasSuffix(last.GetKind(), "WebhookConfiguration") {
		t.Errorf("last object is %s %s; webhook configurations must come last", last.GetKind(), last.GetName())
	}
	if !strings.Contains(string(written), "image: "+testImage) {
		t.Errorf("install.yaml does not use image %s", testImage)
	}
}

func TestSplitImage(t *testing.T) {
	tests := []struct {
		name, ref, newName, tag, digest string
		wantErr                         bool
	}{
		{name: "name and tag", ref: "example.com/nas:v1", newName: "example.com/nas", tag: "v1"},
		{name: "registry port is not a tag", ref: "localhost:5000/nas", newName: "localhost:5000/nas"},
		{name: "registry port and tag", ref: "localhost:5000/nas:v2", newName: "localhost:5000/nas", tag: "v2"},
		{name: "digest", ref: "example.com/nas@sha256:abc", newName: "example.com/nas", digest: "sha256:abc"},
		{name: "empty", ref: "", wantErr: true},
		{name: "empty tag", ref: "nas:", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := render.SplitImage(tt.ref)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := fmt.Sprintf("%s|%s|%s|%s", img.Name, img.NewName, img.NewTag, img.Digest)
			want := fmt.Sprintf("%s|%s|%s|%s", render.ManagerImageName, tt.newName, tt.tag, tt.digest)
			if got != want {
				t.Errorf("SplitImage(%q) = %s, want %s", tt.ref, got, want)
			}
		})
	}
}

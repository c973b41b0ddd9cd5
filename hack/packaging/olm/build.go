package olm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PackageName is the OLM package the bundle belongs to.
const PackageName = "nodeagentset"

// Input is everything a bundle is made of.
type Input struct {
	// Objects are the rendered config/manifests: the base ClusterServiceVersion and the kustomize install.
	Objects []*unstructured.Unstructured
	// Samples are the example custom resources for alm-examples, in the order they should be shown.
	Samples []*unstructured.Unstructured
	// Version is the operator's semantic version, without a leading v.
	Version string
	// Image is the manager image the Deployment runs.
	Image string
	// Channels are the OLM channels the bundle is published to; DefaultChannel is one of them.
	Channels       []string
	DefaultChannel string
	// IconSVG becomes the CSV's icon when the base CSV has none.
	IconSVG []byte
}

// File is one bundle manifest: its file name under manifests/ and its content.
type File struct {
	Name   string
	Object map[string]any
}

// Bundle is a built bundle.
type Bundle struct {
	// CSV is the ClusterServiceVersion, written as manifests/<package>.clusterserviceversion.yaml.
	CSV *operatorsv1alpha1.ClusterServiceVersion
	// Manifests are the other objects, sorted by file name.
	Manifests []File
	// Annotations are metadata/annotations.yaml's, also the image labels in bundle.Dockerfile.
	Annotations map[string]string
}

// classified sorts the rendered objects by the part they play in the bundle.
type classified struct {
	csv             *unstructured.Unstructured
	crds            []*unstructured.Unstructured
	deployment      *appsv1.Deployment
	serviceAccounts map[string]bool
	roles           map[string]*rbacv1.Role
	clusterRoles    map[string]*rbacv1.ClusterRole
	roleBindings    []*rbacv1.RoleBinding
	clusterBindings []*rbacv1.ClusterRoleBinding
	validating      []*admissionregistrationv1.ValidatingWebhookConfiguration
	mutating        []*admissionregistrationv1.MutatingWebhookConfiguration
	services        map[string]*corev1.Service
	certSecrets     map[string]bool // secrets cert-manager would fill; OLM mounts its own certificate instead
	others          []*unstructured.Unstructured
}

// Build makes the bundle. Errors name the object or field that does not fit.
func Build(in Input) (*Bundle, error) {
	if _, err := semver.Parse(in.Version); err != nil {
		return nil, fmt.Errorf("version %q is not a semantic version (MAJOR.MINOR.PATCH): %w", in.Version, err)
	}
	if in.Image == "" {
		return nil, errors.New("image is empty")
	}
	if len(in.Channels) == 0 || !slices.Contains(in.Channels, in.DefaultChannel) {
		return nil, fmt.Errorf("default channel %q is not one of the channels %q", in.DefaultChannel, in.Channels)
	}
	c, err := classify(in.Objects)
	if err != nil {
		return nil, err
	}
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	if err := fromUnstructured(c.csv, csv); err != nil {
		return nil, fmt.Errorf("base ClusterServiceVersion: %w", err)
	}

	csv.Name = PackageName + ".v" + in.Version
	csv.Spec.Version = version.OperatorVersion{Version: semver.MustParse(in.Version)}
	if csv.Annotations == nil {
		csv.Annotations = map[string]string{}
	}
	csv.Annotations["containerImage"] = in.Image
	examples, err := almExamples(in.Samples)
	if err != nil {
		return nil, err
	}
	csv.Annotations["alm-examples"] = examples
	csv.Spec.RelatedImages = []operatorsv1alpha1.RelatedImage{{Name: "manager", Image: in.Image}}
	if len(csv.Spec.Icon) == 0 && len(in.IconSVG) > 0 {
		csv.Spec.Icon = []operatorsv1alpha1.Icon{{
			Data: base64.StdEncoding.EncodeToString(in.IconSVG), MediaType: "image/svg+xml",
		}}
	}

	if err := checkOwnedCRDs(csv, c.crds); err != nil {
		return nil, err
	}
	deployment, err := olmDeployment(c, in.Image)
	if err != nil {
		return nil, err
	}
	saName := deployment.Spec.Template.Spec.ServiceAccountName
	permissions, clusterPermissions, err := permissionsOf(c, saName)
	if err != nil {
		return nil, err
	}
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment,
		StrategySpec: operatorsv1alpha1.StrategyDetailsDeployment{
			DeploymentSpecs: []operatorsv1alpha1.StrategyDeploymentSpec{{
				Name:  deployment.Name,
				Label: deployment.Labels,
				Spec:  deployment.Spec,
			}},
			Permissions:        permissions,
			ClusterPermissions: clusterPermissions,
		},
	}
	webhooks, webhookServices, err := webhookDefinitions(c, deployment.Name)
	if err != nil {
		return nil, err
	}
	csv.Spec.WebhookDefinitions = webhooks

	manifests, err := otherManifests(c, saName, webhookServices)
	if err != nil {
		return nil, err
	}
	return &Bundle{
		CSV:         csv,
		Manifests:   manifests,
		Annotations: bundleAnnotations(in.Channels, in.DefaultChannel),
	}, nil
}

func classify(objs []*unstructured.Unstructured) (*classified, error) {
	c := &classified{
		serviceAccounts: map[string]bool{},
		roles:           map[string]*rbacv1.Role{},
		clusterRoles:    map[string]*rbacv1.ClusterRole{},
		services:        map[string]*corev1.Service{},
		certSecrets:     map[string]bool{},
	}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		ref := fmt.Sprintf("%s %s", gvk.Kind, u.GetName())
		var err error
		switch gvk.GroupKind().String() {
		case "ClusterServiceVersion.operators.coreos.com":
			if c.csv != nil {
				return nil, fmt.Errorf("two ClusterServiceVersions: %s and %s", c.csv.GetName(), u.GetName())
			}
			c.csv = u
		case "CustomResourceDefinition.apiextensions.k8s.io":
			c.crds = append(c.crds, u)
		case "Deployment.apps":
			if c.deployment != nil {
				return nil, fmt.Errorf("two Deployments: %s and %s; the bundle installs one manager",
					c.deployment.Name, u.GetName())
			}
			c.deployment = &appsv1.Deployment{}
			err = fromUnstructured(u, c.deployment)
		case "ServiceAccount":
			c.serviceAccounts[u.GetName()] = true
		case "Role.rbac.authorization.k8s.io":
			r := &rbacv1.Role{}
			err = fromUnstructured(u, r)
			c.roles[r.Name] = r
		case "ClusterRole.rbac.authorization.k8s.io":
			r := &rbacv1.ClusterRole{}
			err = fromUnstructured(u, r)
			c.clusterRoles[r.Name] = r
		case "RoleBinding.rbac.authorization.k8s.io":
			b := &rbacv1.RoleBinding{}
			err = fromUnstructured(u, b)
			c.roleBindings = append(c.roleBindings, b)
		case "ClusterRoleBinding.rbac.authorization.k8s.io":
			b := &rbacv1.ClusterRoleBinding{}
			err = fromUnstructured(u, b)
			c.clusterBindings = append(c.clusterBindings, b)
		case "ValidatingWebhookConfiguration.admissionregistration.k8s.io":
			w := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			err = fromUnstructured(u, w)
			c.validating = append(c.validating, w)
		case "MutatingWebhookConfiguration.admissionregistration.k8s.io":
			w := &admissionregistrationv1.MutatingWebhookConfiguration{}
			err = fromUnstructured(u, w)
			c.mutating = append(c.mutating, w)
		case "Service":
			s := &corev1.Service{}
			err = fromUnstructured(u, s)
			c.services[s.Name] = s
		case "Certificate.cert-manager.io":
			secret, _, _ := unstructured.NestedString(u.Object, "spec", "secretName")
			c.certSecrets[secret] = true
		case "Issuer.cert-manager.io", "ClusterIssuer.cert-manager.io", "Namespace":
			// OLM issues webhook certificates itself and installs into the namespace the user picked.
		default:
			c.others = append(c.others, u)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	switch {
	case c.csv == nil:
		return nil, errors.New("no base ClusterServiceVersion among the rendered objects (config/manifests/bases)")
	case c.deployment == nil:
		return nil, errors.New("no manager Deployment among the rendered objects")
	case len(c.crds) == 0:
		return nil, errors.New("no CustomResourceDefinition among the rendered objects")
	}
	return c, nil
}

// olmDeployment is the manager Deployment as OLM should create it: the given image, and no volume for a
// cert-manager secret (OLM mounts its own certificate at the same path, /tmp/k8s-webhook-server/serving-certs).
func olmDeployment(c *classified, image string) (*appsv1.Deployment, error) {
	d := c.deployment.DeepCopy()
	dropped := map[string]bool{}
	var volumes []corev1.Volume
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil && c.certSecrets[v.Secret.SecretName] {
			dropped[v.Name] = true
			continue
		}
		volumes = append(volumes, v)
	}
	d.Spec.Template.Spec.Volumes = volumes
	managerFound := false
	for i := range d.Spec.Template.Spec.Containers {
		ctr := &d.Spec.Template.Spec.Containers[i]
		if ctr.Name == "manager" {
			ctr.Image = image
			managerFound = true
		}
		var mounts []corev1.VolumeMount
		for _, m := range ctr.VolumeMounts {
			if !dropped[m.Name] {
				mounts = append(mounts, m)
			}
		}
		ctr.VolumeMounts = mounts
	}
	if !managerFound {
		return nil, fmt.Errorf("Deployment %s has no container named manager", d.Name)
	}
	if d.Spec.Template.Spec.ServiceAccountName == "" {
		return nil, fmt.Errorf("Deployment %s: spec.template.spec.serviceAccountName is empty", d.Name)
	}
	return d, nil
}

// permissionsOf turns the roles bound to the manager's service account into the CSV's permissions (namespaced, in
// the install namespace) and clusterPermissions, merging the rules of several roles per kind.
func permissionsOf(c *classified, sa string) (ns, cluster []operatorsv1alpha1.StrategyDeploymentPermissions, err error) {
	if !c.serviceAccounts[sa] {
		return nil, nil, fmt.Errorf("the manager's service account %q is not among the rendered objects", sa)
	}
	var nsRules, clusterRules []rbacv1.PolicyRule
	for _, b := range c.roleBindings {
		if !bindsServiceAccount(b.Subjects, sa) {
			continue
		}
		switch b.RoleRef.Kind {
		case "Role":
			r := c.roles[b.RoleRef.Name]
			if r == nil {
				return nil, nil, fmt.Errorf("RoleBinding %s refers to Role %s, which is not rendered", b.Name, b.RoleRef.Name)
			}
			nsRules = append(nsRules, r.Rules...)
		case "ClusterRole":
			r := c.clusterRoles[b.RoleRef.Name]
			if r == nil {
				return nil, nil, fmt.Errorf("RoleBinding %s refers to ClusterRole %s, which is not rendered", b.Name, b.RoleRef.Name)
			}
			nsRules = append(nsRules, r.Rules...)
		}
	}
	for _, b := range c.clusterBindings {
		if !bindsServiceAccount(b.Subjects, sa) {
			continue
		}
		r := c.clusterRoles[b.RoleRef.Name]
		if r == nil {
			return nil, nil, fmt.Errorf("ClusterRoleBinding %s refers to ClusterRole %s, which is not rendered", b.Name, b.RoleRef.Name)
		}
		clusterRules = append(clusterRules, r.Rules...)
	}
	if len(nsRules) > 0 {
		ns = []operatorsv1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: sa, Rules: nsRules}}
	}
	if len(clusterRules) > 0 {
		cluster = []operatorsv1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: sa, Rules: clusterRules}}
	}
	return ns, cluster, nil
}

func bindsServiceAccount(subjects []rbacv1.Subject, sa string) bool {
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa {
			return true
		}
	}
	return false
}

// boundToServiceAccount reports whether a role is folded into the CSV's permissions.
func boundToServiceAccount(c *classified, kind, name, sa string) bool {
	for _, b := range c.roleBindings {
		if b.RoleRef.Kind == kind && b.RoleRef.Name == name && bindsServiceAccount(b.Subjects, sa) {
			return true
		}
	}
	for _, b := range c.clusterBindings {
		if kind == "ClusterRole" && b.RoleRef.Name == name && bindsServiceAccount(b.Subjects, sa) {
			return true
		}
	}
	return false
}

// webhookDefinitions turns the webhook configurations into the CSV's webhookdefinitions, pointing at the manager
// Deployment through the port the webhook Service exposes and the container port behind it. It also returns the
// Services the webhooks call, which OLM replaces with its own.
func webhookDefinitions(c *classified, deployment string) ([]operatorsv1alpha1.WebhookDescription, map[string]bool, error) {
	services := map[string]bool{}
	ports := func(webhook string, cc admissionregistrationv1.WebhookClientConfig) (int32, *intstr.IntOrString, *string, error) {
		if cc.Service == nil {
			return 0, nil, nil, fmt.Errorf("webhook %s: clientConfig.service is not set; OLM can only route to the manager through a Service", webhook)
		}
		svc := c.services[cc.Service.Name]
		if svc == nil {
			return 0, nil, nil, fmt.Errorf("webhook %s: clientConfig.service.name %q is not a rendered Service", webhook, cc.Service.Name)
		}
		services[svc.Name] = true
		port := int32(443)
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		for _, p := range svc.Spec.Ports {
			if p.Port == port {
				target := p.TargetPort
				if target.IntVal == 0 && target.StrVal == "" {
					target = intstr.FromInt32(port)
				}
				return port, &target, cc.Service.Path, nil
			}
		}
		return 0, nil, nil, fmt.Errorf("webhook %s: Service %s has no port %d", webhook, svc.Name, port)
	}

	var defs []operatorsv1alpha1.WebhookDescription
	// describe turns one webhook into its CSV entry; the fields both kinds of webhook share are taken from a
	// ValidatingWebhook, and a mutating one adds its reinvocation policy.
	describe := func(typ operatorsv1alpha1.WebhookAdmissionType, w admissionregistrationv1.ValidatingWebhook,
		reinvocation *admissionregistrationv1.ReinvocationPolicyType) error {
		port, target, path, err := ports(w.Name, w.ClientConfig)
		if err != nil {
			return err
		}
		defs = append(defs, operatorsv1alpha1.WebhookDescription{
			GenerateName:            w.Name,
			Type:                    typ,
			DeploymentName:          deployment,
			ContainerPort:           port,
			TargetPort:              target,
			Rules:                   w.Rules,
			FailurePolicy:           w.FailurePolicy,
			MatchPolicy:             w.MatchPolicy,
			ObjectSelector:          w.ObjectSelector,
			SideEffects:             w.SideEffects,
			TimeoutSeconds:          w.TimeoutSeconds,
			AdmissionReviewVersions: w.AdmissionReviewVersions,
			ReinvocationPolicy:      reinvocation,
			WebhookPath:             path,
		})
		return nil
	}
	for _, cfg := range c.mutating {
		for _, w := range cfg.Webhooks {
			shared := admissionregistrationv1.ValidatingWebhook{
				Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, FailurePolicy: w.FailurePolicy,
				MatchPolicy: w.MatchPolicy, ObjectSelector: w.ObjectSelector, SideEffects: w.SideEffects,
				TimeoutSeconds: w.TimeoutSeconds, AdmissionReviewVersions: w.AdmissionReviewVersions,
			}
			if err := describe(operatorsv1alpha1.MutatingAdmissionWebhook, shared, w.ReinvocationPolicy); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, cfg := range c.validating {
		for _, w := range cfg.Webhooks {
			if err := describe(operatorsv1alpha1.ValidatingAdmissionWebhook, w, nil); err != nil {
				return nil, nil, err
			}
		}
	}
	sort.SliceStable(defs, func(i, j int) bool {
		if defs[i].Type != defs[j].Type {
			return defs[i].Type < defs[j].Type
		}
		return defs[i].GenerateName < defs[j].GenerateName
	})
	return defs, services, nil
}

// otherManifests are the objects OLM applies as they are: everything not folded into the CSV or replaced by OLM.
func otherManifests(c *classified, sa string, webhookServices map[string]bool) ([]File, error) {
	var files []File
	add := func(obj runtime.Object, u *unstructured.Unstructured) error {
		m := map[string]any{}
		if u != nil {
			m = u.DeepCopy().Object
		} else {
			var err error
			if m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err != nil {
				return err
			}
		}
		clean := &unstructured.Unstructured{Object: m}
		// OLM puts namespaced objects into the namespace the operator is installed in.
		clean.SetNamespace("")
		unstructured.RemoveNestedField(clean.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(clean.Object, "status")
		files = append(files, File{Name: manifestFileName(clean), Object: clean.Object})
		return nil
	}
	for _, crd := range c.crds {
		if err := add(nil, crd); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(c.clusterRoles) {
		if boundToServiceAccount(c, "ClusterRole", name, sa) {
			continue
		}
		r := c.clusterRoles[name]
		r.APIVersion, r.Kind = "rbac.authorization.k8s.io/v1", "ClusterRole"
		if err := add(r, nil); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(c.roles) {
		if boundToServiceAccount(c, "Role", name, sa) {
			continue
		}
		r := c.roles[name]
		r.APIVersion, r.Kind = "rbac.authorization.k8s.io/v1", "Role"
		if err := add(r, nil); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(c.services) {
		if webhookServices[name] {
			continue
		}
		s := c.services[name]
		s.APIVersion, s.Kind = "v1", "Service"
		if err := add(s, nil); err != nil {
			return nil, err
		}
	}
	for _, u := range c.others {
		if err := add(nil, u); err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for i := 1; i < len(files); i++ {
		if files[i].Name == files[i-1].Name {
			return nil, fmt.Errorf("two bundle manifests would be written to %s", files[i].Name)
		}
	}
	return files, nil
}

// manifestFileName names a bundle manifest after its object: <name>_<group>_<version>_<kind>.yaml, CRDs
// <group>_<plural>.yaml, as operator-sdk does, so bundles diff cleanly against generated ones.
func manifestFileName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	if gvk.Kind == "CustomResourceDefinition" {
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
		return group + "_" + plural + ".yaml"
	}
	parts := []string{u.GetName()}
	if gvk.Group != "" {
		parts = append(parts, gvk.Group)
	}
	parts = append(parts, gvk.Version, strings.ToLower(gvk.Kind))
	return strings.Join(parts, "_") + ".yaml"
}

// checkOwnedCRDs makes sure the base CSV describes exactly the rendered CRDs, and that every descriptor path exists
// in the CRD's schema, so a renamed API field cannot leave the console pointing at nothing.
func checkOwnedCRDs(csv *operatorsv1alpha1.ClusterServiceVersion, crds []*unstructured.Unstructured) error {
	owned := map[string]*operatorsv1alpha1.CRDDescription{}
	for i := range csv.Spec.CustomResourceDefinitions.Owned {
		d := &csv.Spec.CustomResourceDefinitions.Owned[i]
		owned[d.Name] = d
	}
	seen := map[string]bool{}
	for _, u := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := fromUnstructured(u, crd); err != nil {
			return fmt.Errorf("CustomResourceDefinition %s: %w", u.GetName(), err)
		}
		d := owned[crd.Name]
		if d == nil {
			return fmt.Errorf("CustomResourceDefinition %s is not in the base CSV's spec.customresourcedefinitions.owned", crd.Name)
		}
		seen[crd.Name] = true
		if d.Kind != crd.Spec.Names.Kind {
			return fmt.Errorf("base CSV owned CRD %s: kind %q, but the CRD's kind is %q", crd.Name, d.Kind, crd.Spec.Names.Kind)
		}
		var schema *apiextensionsv1.JSONSchemaProps
		for _, v := range crd.Spec.Versions {
			if v.Name == d.Version && v.Served && v.Schema != nil {
				schema = v.Schema.OpenAPIV3Schema
			}
		}
		if schema == nil {
			return fmt.Errorf("base CSV owned CRD %s: version %q is not a served version with a schema", crd.Name, d.Version)
		}
		if strings.TrimSpace(d.Description) == "" {
			return fmt.Errorf("base CSV owned CRD %s: description is empty", crd.Name)
		}
		for _, sd := range d.SpecDescriptors {
			if !schemaHasPath(schema, "spec."+sd.Path) {
				return fmt.Errorf("base CSV owned CRD %s: specDescriptor path %q is not a field of spec", crd.Name, sd.Path)
			}
		}
		for _, sd := range d.StatusDescriptors {
			if !schemaHasPath(schema, "status."+sd.Path) {
				return fmt.Errorf("base CSV owned CRD %s: statusDescriptor path %q is not a field of status", crd.Name, sd.Path)
			}
		}
	}
	for name := range owned {
		if !seen[name] {
			return fmt.Errorf("base CSV owns CRD %s, which is not rendered", name)
		}
	}
	return nil
}

func schemaHasPath(s *apiextensionsv1.JSONSchemaProps, path string) bool {
	for _, field := range strings.Split(path, ".") {
		next, ok := s.Properties[field]
		if !ok {
			return false
		}
		s = &next
	}
	return true
}

// almExamples is the alm-examples annotation: the samples as a JSON array, without namespaces (the console creates
// them in the namespace the user is in).
func almExamples(samples []*unstructured.Unstructured) (string, error) {
	list := make([]map[string]any, 0, len(samples))
	for _, s := range samples {
		c := s.DeepCopy()
		c.SetNamespace("")
		list = append(list, c.Object)
	}
	if len(list) == 0 {
		return "", errors.New("no samples for alm-examples: config/samples has no NodeAgentSet")
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// Annotation keys of a registry+v1 bundle.
const (
	AnnotationMediaType      = "operators.operatorframework.io.bundle.mediatype.v1"
	AnnotationManifests      = "operators.operatorframework.io.bundle.manifests.v1"
	AnnotationMetadata       = "operators.operatorframework.io.bundle.metadata.v1"
	AnnotationPackage        = "operators.operatorframework.io.bundle.package.v1"
	AnnotationChannels       = "operators.operatorframework.io.bundle.channels.v1"
	AnnotationDefaultChannel = "operators.operatorframework.io.bundle.channel.default.v1"
)

func bundleAnnotations(channels []string, defaultChannel string) map[string]string {
	return map[string]string{
		AnnotationMediaType:      "registry+v1",
		AnnotationManifests:      "manifests/",
		AnnotationMetadata:       "metadata/",
		AnnotationPackage:        PackageName,
		AnnotationChannels:       strings.Join(channels, ","),
		AnnotationDefaultChannel: defaultChannel,
	}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

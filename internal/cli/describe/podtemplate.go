package describe

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Indentation levels, two spaces each, as kubectl describe indents.
const (
	level0 = ""
	level1 = "  "
	level2 = "    "
	level3 = "      "
)

// PodTemplate renders the template. Key and value columns are aligned within each run of key/value lines.
func PodTemplate(template *corev1.PodTemplateSpec) string {
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	p := printer{w: w}
	p.line(level0, "Pod Template:")
	p.multiline(level1, "Labels", sortedPairs(template.Labels, "="))
	if len(template.Annotations) > 0 {
		p.multiline(level1, "Annotations", sortedPairs(template.Annotations, ": "))
	}
	spec := &template.Spec
	if spec.ServiceAccountName != "" {
		p.field(level1, "Service Account", spec.ServiceAccountName)
	}
	if len(spec.InitContainers) > 0 {
		p.containers("Init Containers", spec.InitContainers)
	}
	p.containers("Containers", spec.Containers)
	p.volumes(spec.Volumes)
	if spec.PriorityClassName != "" {
		p.field(level1, "Priority Class Name", spec.PriorityClassName)
	}
	p.multiline(level1, "Node-Selectors", sortedPairs(spec.NodeSelector, "="))
	p.multiline(level1, "Tolerations", tolerations(spec.Tolerations))
	_ = w.Flush()
	return buf.String()
}

// printer writes lines through one tabwriter; a tab separates a key from its value.
type printer struct {
	w io.Writer
}

func (p printer) line(indent, text string) {
	fmt.Fprintf(p.w, "%s%s\n", indent, text)
}

func (p printer) field(indent, key, value string) {
	fmt.Fprintf(p.w, "%s%s:\t%s\n", indent, key, value)
}

// multiline prints the first value beside the key and the rest below it in the value column; no values is <none>.
func (p printer) multiline(indent, key string, values []string) {
	if len(values) == 0 {
		p.field(indent, key, "<none>")
		return
	}
	p.field(indent, key, values[0])
	for _, v := range values[1:] {
		fmt.Fprintf(p.w, "\t%s\n", v)
	}
}

func (p printer) containers(label string, containers []corev1.Container) {
	if len(containers) == 0 {
		p.line(level1, label+": <none>")
		return
	}
	p.line(level1, label+":")
	for i := range containers {
		p.container(&containers[i])
	}
}

func (p printer) container(c *corev1.Container) {
	// The container name sits one space deeper than its section title, as in kubectl describe.
	p.line(level1, " "+c.Name+":")
	p.field(level2, "Image", c.Image)
	ports, hostPorts := portStrings(c.Ports)
	p.countedField("Port", "Ports", ports)
	p.countedField("Host Port", "Host Ports", hostPorts)
	if len(c.Command) > 0 {
		p.line(level2, "Command:")
		for _, s := range c.Command {
			p.lines(level3, s)
		}
	}
	if len(c.Args) > 0 {
		p.line(level2, "Args:")
		for _, s := range c.Args {
			p.lines(level3, s)
		}
	}
	p.resources("Limits", c.Resources.Limits)
	p.resources("Requests", c.Resources.Requests)
	if c.LivenessProbe != nil {
		p.field(level2, "Liveness", probe(c.LivenessProbe))
	}
	if c.ReadinessProbe != nil {
		p.field(level2, "Readiness", probe(c.ReadinessProbe))
	}
	if c.StartupProbe != nil {
		p.field(level2, "Startup", probe(c.StartupProbe))
	}
	if len(c.EnvFrom) > 0 {
		p.line(level2, "Environment Variables from:")
		for _, src := range c.EnvFrom {
			fmt.Fprintf(p.w, "%s%s\t%s\n", level3, envFromName(src), envFromKind(src))
		}
	}
	if len(c.Env) == 0 {
		p.field(level2, "Environment", "<none>")
	} else {
		p.line(level2, "Environment:")
		for _, e := range c.Env {
			p.field(level3, e.Name, envValue(e))
		}
	}
	p.mounts(c.VolumeMounts)
}

// countedField prints one value under the singular key (or <none>), several under the plural key.
func (p printer) countedField(singular, plural string, values []string) {
	switch len(values) {
	case 0:
		p.field(level2, singular, "<none>")
	case 1:
		p.field(level2, singular, values[0])
	default:
		p.field(level2, plural, strings.Join(values, ", "))
	}
}

// lines prints a possibly multi-line string one line at a time, all at one indent.
func (p printer) lines(indent, s string) {
	for _, l := range strings.Split(s, "\n") {
		p.line(indent, l)
	}
}

func (p printer) resources(title string, list corev1.ResourceList) {
	p.resourcesAt(level2, level3, title, list)
}

// resourcesAt prints a titled resource list at indent, one resource per line at itemIndent; nothing when empty.
func (p printer) resourcesAt(indent, itemIndent, title string, list corev1.ResourceList) {
	if len(list) == 0 {
		return
	}
	p.line(indent, title+":")
	names := make([]string, 0, len(list))
	for n := range list {
		names = append(names, string(n))
	}
	slices.Sort(names)
	for _, n := range names {
		q := list[corev1.ResourceName(n)]
		p.field(itemIndent, n, q.String())
	}
}

func (p printer) mounts(mounts []corev1.VolumeMount) {
	if len(mounts) == 0 {
		p.field(level2, "Mounts", "<none>")
		return
	}
	p.line(level2, "Mounts:")
	sorted := slices.Clone(mounts)
	slices.SortStableFunc(sorted, func(a, b corev1.VolumeMount) int { return strings.Compare(a.MountPath, b.MountPath) })
	for _, m := range sorted {
		flags := []string{"rw"}
		if m.ReadOnly {
			flags[0] = "ro"
		}
		if m.SubPath != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.SubPath))
		}
		p.line(level3, fmt.Sprintf("%s from %s (%s)", m.MountPath, m.Name, strings.Join(flags, ",")))
	}
}

func (p printer) volumes(volumes []corev1.Volume) {
	if len(volumes) == 0 {
		p.line(level1, "Volumes: <none>")
		return
	}
	p.line(level1, "Volumes:")
	for _, v := range volumes {
		p.line(level1, " "+v.Name+":")
		for _, kv := range volumeFields(&v.VolumeSource) {
			p.field(level2, kv[0], kv[1])
		}
	}
}

// volumeFields describes the common volume sources field by field, and any other by its type name.
func volumeFields(src *corev1.VolumeSource) [][2]string {
	switch {
	case src.HostPath != nil:
		typ := ""
		if src.HostPath.Type != nil {
			typ = string(*src.HostPath.Type)
		}
		return [][2]string{
			{"Type", "HostPath (bare host directory volume)"},
			{"Path", src.HostPath.Path},
			{"HostPathType", typ},
		}
	case src.EmptyDir != nil:
		limit := "<unset>"
		if src.EmptyDir.SizeLimit != nil {
			limit = src.EmptyDir.SizeLimit.String()
		}
		return [][2]string{
			{"Type", "EmptyDir (a temporary directory that shares a pod's lifetime)"},
			{"Medium", string(src.EmptyDir.Medium)},
			{"SizeLimit", limit},
		}
	case src.ConfigMap != nil:
		return [][2]string{
			{"Type", "ConfigMap (a volume populated by a ConfigMap)"},
			{"Name", src.ConfigMap.Name},
			{"Optional", fmt.Sprint(src.ConfigMap.Optional != nil && *src.ConfigMap.Optional)},
		}
	case src.Secret != nil:
		return [][2]string{
			{"Type", "Secret (a volume populated by a Secret)"},
			{"SecretName", src.Secret.SecretName},
			{"Optional", fmt.Sprint(src.Secret.Optional != nil && *src.Secret.Optional)},
		}
	case src.PersistentVolumeClaim != nil:
		return [][2]string{
			{"Type", "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)"},
			{"ClaimName", src.PersistentVolumeClaim.ClaimName},
			{"ReadOnly", fmt.Sprint(src.PersistentVolumeClaim.ReadOnly)},
		}
	case src.Projected != nil:
		return [][2]string{{"Type", "Projected (a volume that contains injected data from multiple sources)"}}
	case src.DownwardAPI != nil:
		return [][2]string{{"Type", "DownwardAPI (a volume populated by information about the pod)"}}
	default:
		return [][2]string{{"Type", "<other volume source>"}}
	}
}

// portStrings formats container ports as PORT/PROTOCOL (NAME) and host ports likewise.
func portStrings(ports []corev1.ContainerPort) (container, host []string) {
	for _, port := range ports {
		suffix := ""
		if port.Name != "" {
			suffix = " (" + port.Name + ")"
		}
		protocol := port.Protocol
		if protocol == "" {
			protocol = corev1.ProtocolTCP
		}
		container = append(container, fmt.Sprintf("%d/%s%s", port.ContainerPort, protocol, suffix))
		host = append(host, fmt.Sprintf("%d/%s%s", port.HostPort, protocol, suffix))
	}
	return container, host
}

// probe formats a probe as kubectl describe does: the handler, then delay, timeout, period and thresholds.
func probe(pr *corev1.Probe) string {
	var handler string
	switch h := pr.ProbeHandler; {
	case h.Exec != nil:
		handler = fmt.Sprintf("exec %v", h.Exec.Command)
	case h.HTTPGet != nil:
		scheme := strings.ToLower(string(h.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		handler = fmt.Sprintf("http-get %s://%s:%s%s", scheme, h.HTTPGet.Host, portValue(h.HTTPGet.Port), h.HTTPGet.Path)
	case h.TCPSocket != nil:
		handler = fmt.Sprintf("tcp-socket %s:%s", h.TCPSocket.Host, portValue(h.TCPSocket.Port))
	case h.GRPC != nil:
		service := "<nil>"
		if h.GRPC.Service != nil {
			service = *h.GRPC.Service
		}
		handler = fmt.Sprintf("grpc <pod>:%d %s", h.GRPC.Port, service)
	default:
		handler = "unknown"
	}
	return fmt.Sprintf("%s delay=%s timeout=%s period=%s #success=%d #failure=%d", handler,
		seconds(pr.InitialDelaySeconds), seconds(pr.TimeoutSeconds), seconds(pr.PeriodSeconds),
		pr.SuccessThreshold, pr.FailureThreshold)
}

func portValue(port intstr.IntOrString) string {
	return port.String()
}

func seconds(s int32) string {
	return (time.Duration(s) * time.Second).String()
}

func envFromName(src corev1.EnvFromSource) string {
	switch {
	case src.ConfigMapRef != nil:
		return src.ConfigMapRef.Name
	case src.SecretRef != nil:
		return src.SecretRef.Name
	}
	return "<unknown>"
}

func envFromKind(src corev1.EnvFromSource) string {
	kind, optional := "<unknown>", false
	switch {
	case src.ConfigMapRef != nil:
		kind = "ConfigMap"
		optional = src.ConfigMapRef.Optional != nil && *src.ConfigMapRef.Optional
	case src.SecretRef != nil:
		kind = "Secret"
		optional = src.SecretRef.Optional != nil && *src.SecretRef.Optional
	}
	text := fmt.Sprintf("%s\tOptional: %t", kind, optional)
	if src.Prefix != "" {
		text += fmt.Sprintf("\tPrefix: %s", src.Prefix)
	}
	return text
}

// envValue is the literal value, or where a valueFrom points.
func envValue(e corev1.EnvVar) string {
	from := e.ValueFrom
	switch {
	case from == nil:
		return e.Value
	case from.FieldRef != nil:
		return fmt.Sprintf("(%s:%s)", from.FieldRef.APIVersion, from.FieldRef.FieldPath)
	case from.ResourceFieldRef != nil:
		return fmt.Sprintf("%s (%s)", from.ResourceFieldRef.Resource, from.ResourceFieldRef.ContainerName)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		return fmt.Sprintf("<set to the key '%s' of config map '%s'>  Optional: %t", ref.Key, ref.Name, ref.Optional != nil && *ref.Optional)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		return fmt.Sprintf("<set to the key '%s' in secret '%s'>  Optional: %t", ref.Key, ref.Name, ref.Optional != nil && *ref.Optional)
	}
	return "<unknown source>"
}

// sortedPairs renders a map as key<sep>value entries in key order.
func sortedPairs(m map[string]string, sep string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+sep+m[k])
	}
	return out
}

// tolerations renders each toleration as key=value:Effect, with op=Exists for the Exists operator without a value
// and "for Ns" when it has tolerationSeconds.
func tolerations(ts []corev1.Toleration) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		var b strings.Builder
		b.WriteString(t.Key)
		if t.Value != "" {
			b.WriteString("=" + t.Value)
		}
		if t.Effect != "" {
			b.WriteString(":" + string(t.Effect))
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if b.Len() > 0 {
				b.WriteString(" ")
			}
			b.WriteString("op=Exists")
		}
		if t.TolerationSeconds != nil {
			fmt.Fprintf(&b, " for %ds", *t.TolerationSeconds)
		}
		out = append(out, b.String())
	}
	return out
}

package podspec

import (
	"reflect"
	"sort"
	"strings"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var metav1Zero = metav1.Time{}

// The API server's defaults for pod fields (k8s.io/kubernetes pkg/apis/core/v1 defaults, and the admission plugins
// every cluster runs: ServiceAccount and Priority).
const (
	defaultTerminationGracePeriod int64 = 30
	defaultTerminationMessagePath       = "/dev/termination-log"
	defaultServiceAccount               = "default"
	defaultVolumeMode             int32 = 0o644
	defaultProbeTimeout           int32 = 1
	defaultProbePeriod            int32 = 10
	defaultProbeSuccess           int32 = 1
	defaultProbeFailure           int32 = 3
	serviceAccountTokenPrefix           = "kube-api-access-"
)

// defaultPodSpec fills the fields the API server fills when they are unset, in place, and orders the tolerations
// (whose order means nothing). Applying it twice changes nothing.
func defaultPodSpec(spec *corev1.PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.TerminationGracePeriodSeconds == nil {
		v := defaultTerminationGracePeriod
		spec.TerminationGracePeriodSeconds = &v
	}
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	if spec.EnableServiceLinks == nil {
		v := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &v
	}
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = defaultServiceAccount
	}
	// The deprecated alias always follows serviceAccountName.
	spec.DeprecatedServiceAccount = spec.ServiceAccountName
	// Priority and preemptionPolicy come from the priority class (admission); the class name is what was asked for.
	spec.Priority = nil
	spec.PreemptionPolicy = nil
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i], spec.HostNetwork)
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i], spec.HostNetwork)
	}
	for i := range spec.Volumes {
		defaultVolume(&spec.Volumes[i])
	}
	if len(spec.Tolerations) == 0 {
		spec.Tolerations = nil
	}
	sort.SliceStable(spec.Tolerations, func(i, j int) bool {
		a, b := spec.Tolerations[i], spec.Tolerations[j]
		return strings.Join([]string{a.Key, string(a.Operator), a.Value, string(a.Effect)}, "\x00") <
			strings.Join([]string{b.Key, string(b.Operator), b.Value, string(b.Effect)}, "\x00")
	})
}

func defaultContainer(c *corev1.Container, hostNetwork bool) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = defaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	for i := range c.Ports {
		p := &c.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if hostNetwork && p.HostPort == 0 {
			p.HostPort = p.ContainerPort
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
	// A limit without a request makes the request equal to the limit.
	for name, limit := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[name] = limit.DeepCopy()
		}
	}
	if len(c.Resources.Requests) == 0 {
		c.Resources.Requests = nil
	}
	if len(c.Resources.Limits) == 0 {
		c.Resources.Limits = nil
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil && h.HTTPGet != nil && h.HTTPGet.Scheme == "" {
				h.HTTPGet.Scheme = corev1.URISchemeHTTP
			}
		}
	}
}

// PullPolicyOf is the imagePullPolicy a pod created with container c gets: c's own, or the API server's default for
// its image.
func PullPolicyOf(c *corev1.Container) corev1.PullPolicy {
	if c.ImagePullPolicy != "" {
		return c.ImagePullPolicy
	}
	return defaultPullPolicy(c.Image)
}

// defaultPullPolicy is the API server's default for image: Always when its tag is latest (written, or implied by
// neither a tag nor a digest), IfNotPresent otherwise ("agent:latest@sha256:..." is Always, "agent@sha256:..." is
// not).
func defaultPullPolicy(image string) corev1.PullPolicy {
	tag := ""
	if named, err := reference.ParseNormalizedNamed(image); err == nil {
		_, digested := named.(reference.Digested)
		switch tagged, ok := named.(reference.Tagged); {
		case ok:
			tag = tagged.Tag()
		case !digested:
			tag = "latest"
		}
	} else {
		// Invalid references fail validation elsewhere; read the tag as written.
		withoutDigest, _, _ := strings.Cut(image, "@")
		last := withoutDigest[strings.LastIndex(withoutDigest, "/")+1:]
		if i := strings.LastIndex(last, ":"); i < 0 {
			tag = "latest"
		} else {
			tag = last[i+1:]
		}
	}
	if tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = defaultProbeTimeout
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = defaultProbePeriod
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = defaultProbeSuccess
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = defaultProbeFailure
	}
	if p.HTTPGet != nil && p.HTTPGet.Scheme == "" {
		p.HTTPGet.Scheme = corev1.URISchemeHTTP
	}
	if p.GRPC != nil && p.GRPC.Service == nil {
		empty := ""
		p.GRPC.Service = &empty
	}
}

func defaultVolume(v *corev1.Volume) {
	mode := func(m **int32) {
		if *m == nil {
			d := defaultVolumeMode
			*m = &d
		}
	}
	fieldRefs := func(items []corev1.DownwardAPIVolumeFile) {
		for i := range items {
			if f := items[i].FieldRef; f != nil && f.APIVersion == "" {
				f.APIVersion = "v1"
			}
		}
	}
	switch {
	case v.HostPath != nil:
		if v.HostPath.Type == nil {
			t := corev1.HostPathUnset
			v.HostPath.Type = &t
		}
	case v.ConfigMap != nil:
		mode(&v.ConfigMap.DefaultMode)
	case v.Secret != nil:
		mode(&v.Secret.DefaultMode)
	case v.DownwardAPI != nil:
		mode(&v.DownwardAPI.DefaultMode)
		fieldRefs(v.DownwardAPI.Items)
	case v.Projected != nil:
		mode(&v.Projected.DefaultMode)
		for i := range v.Projected.Sources {
			if d := v.Projected.Sources[i].DownwardAPI; d != nil {
				fieldRefs(d.Items)
			}
		}
	case v.EmptyDir != nil, v.PersistentVolumeClaim != nil:
	case v.VolumeSource == (corev1.VolumeSource{}):
		// An empty source means an emptyDir.
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
}

// removeServiceAccountTokenVolume drops the projected token volume the ServiceAccount admission plugin adds to
// every pod (kube-api-access-<random>) and its mounts.
func removeServiceAccountTokenVolume(spec *corev1.PodSpec) {
	var removed []string
	volumes := spec.Volumes[:0:0]
	for _, v := range spec.Volumes {
		if strings.HasPrefix(v.Name, serviceAccountTokenPrefix) && v.Projected != nil {
			removed = append(removed, v.Name)
			continue
		}
		volumes = append(volumes, v)
	}
	if len(removed) == 0 {
		return
	}
	if len(volumes) == 0 {
		volumes = nil
	}
	spec.Volumes = volumes
	drop := func(containers []corev1.Container) {
		for i := range containers {
			c := &containers[i]
			mounts := c.VolumeMounts[:0:0]
			for _, m := range c.VolumeMounts {
				if !contains(removed, m.Name) {
					mounts = append(mounts, m)
				}
			}
			if len(mounts) == 0 {
				mounts = nil
			}
			c.VolumeMounts = mounts
		}
	}
	drop(spec.InitContainers)
	drop(spec.Containers)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// specFieldsDiffering names the pod spec fields (by their JSON names) that differ.
func specFieldsDiffering(a, b *corev1.PodSpec) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	t := va.Type()
	for i := 0; i < t.NumField(); i++ {
		if !equality.Semantic.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
			out = append(out, "spec."+name)
		}
	}
	return out
}

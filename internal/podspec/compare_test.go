package podspec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "agent", Image: "agent:1.2",
				Ports:          []corev1.ContainerPort{{ContainerPort: 9100}},
				Env:            []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
				Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}},
			}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}},
		},
	}
}

// defaulted is the template as the API server stores it for a DaemonSet and fills it into a pod.
func defaulted() *corev1.PodTemplateSpec {
	t := template()
	spec := &t.Spec
	grace, mode, links := int64(30), int32(0o644), true
	spec.RestartPolicy, spec.DNSPolicy, spec.SchedulerName = corev1.RestartPolicyAlways, corev1.DNSClusterFirst, corev1.DefaultSchedulerName
	spec.TerminationGracePeriodSeconds, spec.SecurityContext, spec.EnableServiceLinks = &grace, &corev1.PodSecurityContext{}, &links
	spec.ServiceAccountName, spec.DeprecatedServiceAccount = "default", "default"
	spec.Volumes[0].ConfigMap.DefaultMode = &mode
	c := &spec.Containers[0]
	c.TerminationMessagePath, c.TerminationMessagePolicy, c.ImagePullPolicy = "/dev/termination-log", corev1.TerminationMessageReadFile, corev1.PullIfNotPresent
	c.Ports[0].Protocol = corev1.ProtocolTCP
	c.Env[0].ValueFrom.FieldRef.APIVersion = "v1"
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")}
	p := c.ReadinessProbe
	p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold = 1, 10, 1, 3
	p.HTTPGet.Scheme = corev1.URISchemeHTTP
	return t
}

func TestCompareTemplates(t *testing.T) {
	tests := []struct {
		name       string
		have, want func() *corev1.PodTemplateSpec
		same       bool
		images     map[string]string
		fields     []string
	}{
		{name: "a template and its API server defaulting are the same", have: defaulted, want: template, same: true},
		{name: "an image change is an image difference",
			have:   defaulted,
			want:   func() *corev1.PodTemplateSpec { t := template(); t.Spec.Containers[0].Image = "agent:1.3"; return t },
			images: map[string]string{"agent": "agent:1.3"}},
		{name: "a value set differently is not made equal by defaulting",
			have: defaulted,
			want: func() *corev1.PodTemplateSpec {
				t := template()
				t.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
				grace := int64(5)
				t.Spec.TerminationGracePeriodSeconds = &grace
				return t
			},
			fields: []string{"spec.containers[agent]", "spec.terminationGracePeriodSeconds"}},
		{name: "resources differ",
			have: template,
			want: func() *corev1.PodTemplateSpec {
				t := template()
				t.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
				return t
			},
			fields: []string{"spec.containers[agent]"}},
		{name: "labels differ", have: template,
			want:   func() *corev1.PodTemplateSpec { t := template(); t.Labels["tier"] = "node"; return t },
			fields: []string{"metadata.labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := CompareTemplates(tt.have(), tt.want())
			if d.Same() != tt.same || !equality.Semantic.DeepEqual(d.Images, tt.images) || !equality.Semantic.DeepEqual(d.Fields, tt.fields) {
				t.Errorf("difference = %+v (%s), want same=%v images=%v fields=%v", d, d, tt.same, tt.images, tt.fields)
			}
		})
	}
}

func TestComparePodsIgnoresWhatTheServerAdds(t *testing.T) {
	want := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent", "controller-revision-hash": "abc"}},
		Spec: template().Spec}
	want.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}, {Key: "b", Operator: corev1.TolerationOpExists}}
	live := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent", "controller-revision-hash": "ds1",
		"pod-template-generation": "2"}}, Spec: defaulted().Spec}
	live.Spec.NodeName = "node-1"
	live.Spec.Tolerations = []corev1.Toleration{want.Spec.Tolerations[1], want.Spec.Tolerations[0]}
	prio := int32(2000001000)
	live.Spec.Priority = &prio
	live.Spec.Volumes = append(live.Spec.Volumes, corev1.Volume{Name: "kube-api-access-abcde",
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
	live.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "kube-api-access-abcde", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}
	if d := ComparePods(live, want); !d.Same() {
		t.Errorf("difference = %s, want none", d)
	}
	live.Spec.Containers[0].Args = []string{"--verbose"}
	if d := ComparePods(live, want); d.Same() {
		t.Error("an added argument went unnoticed")
	}
}

// The API server's imagePullPolicy default: Always for the latest tag, written or implied.
func TestDefaultPullPolicy(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("a", 64)
	for image, want := range map[string]corev1.PullPolicy{
		"agent":                           corev1.PullAlways,
		"agent:latest":                    corev1.PullAlways,
		"registry.example:5000/agent":     corev1.PullAlways,
		"registry.example:5000/agent:1.2": corev1.PullIfNotPresent,
		"agent:1.2":                       corev1.PullIfNotPresent,
		"agent" + digest:                  corev1.PullIfNotPresent,
		"agent:latest" + digest:           corev1.PullAlways,
		"agent:1.2" + digest:              corev1.PullIfNotPresent,
		"Not/A:Valid/Image:latest":        corev1.PullAlways,
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("defaultPullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}

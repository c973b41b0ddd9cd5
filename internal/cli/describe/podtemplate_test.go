package describe

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

func TestPodTemplate(t *testing.T) {
	hostPathFile := corev1.HostPathFile
	tolerationSeconds := int64(300)
	optional := true
	cases := []struct {
		name     string
		template corev1.PodTemplateSpec
		want     string
	}{
		{
			name: "basic daemonset of the seed walkthrough: init container, hostPath volumes, pause",
			template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "example"}},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{
						Name: "log-machine-id", Image: "busybox:1.37",
						Command: []string{"sh", "-c", "cat /etc/machine-id > /var/log/machine-id.log"},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "machine-id", MountPath: "/etc/machine-id", ReadOnly: true},
							{Name: "log-dir", MountPath: "/var/log"},
						},
					}},
					Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause"}},
					Volumes: []corev1.Volume{
						{Name: "machine-id", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc/machine-id", Type: &hostPathFile}}},
						{Name: "log-dir", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
					},
				},
			},
			want: lines(
				"Pod Template:",
				"  Labels:  app.kubernetes.io/name=example",
				"  Init Containers:",
				"   log-machine-id:",
				"    Image:      busybox:1.37",
				"    Port:       <none>",
				"    Host Port:  <none>",
				"    Command:",
				"      sh",
				"      -c",
				"      cat /etc/machine-id > /var/log/machine-id.log",
				"    Environment:  <none>",
				"    Mounts:",
				"      /etc/machine-id from machine-id (ro)",
				"      /var/log from log-dir (rw)",
				"  Containers:",
				"   pause:",
				"    Image:        registry.k8s.io/pause",
				"    Port:         <none>",
				"    Host Port:    <none>",
				"    Environment:  <none>",
				"    Mounts:       <none>",
				"  Volumes:",
				"   machine-id:",
				"    Type:          HostPath (bare host directory volume)",
				"    Path:          /etc/machine-id",
				"    HostPathType:  File",
				"   log-dir:",
				"    Type:          HostPath (bare host directory volume)",
				"    Path:          /var/log",
				"    HostPathType:  ",
				"  Node-Selectors:  <none>",
				"  Tolerations:     <none>",
			),
		},
		{
			name: "resources, ports, probes, environment, annotations, node selector and tolerations",
			template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      map[string]string{"name": "fluentd-elasticsearch", "tier": "node"},
					Annotations: map[string]string{"nodeagentset.io/restartedAt": "2026-03-04T05:06:07Z"},
				},
				Spec: corev1.PodSpec{
					ServiceAccountName: "fluentd",
					Containers: []corev1.Container{{
						Name: "fluentd-elasticsearch", Image: "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
						Args:  []string{"--config", "/etc/fluent.conf"},
						Ports: []corev1.ContainerPort{{Name: "forward", ContainerPort: 24224, Protocol: corev1.ProtocolTCP}, {ContainerPort: 9880, HostPort: 9880, Protocol: corev1.ProtocolUDP}},
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")},
							Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(9880)}},
							PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
						},
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "fluentd-env"}}}},
						Env: []corev1.EnvVar{
							{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}},
							{Name: "ES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "es"}, Key: "password", Optional: &optional}}},
							{Name: "LOG_LEVEL", Value: "info"},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "varlog", MountPath: "/var/log"}, {Name: "containers", MountPath: "/var/lib/docker/containers", ReadOnly: true, SubPath: "logs"}},
					}},
					Volumes: []corev1.Volume{
						{Name: "varlog", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "fluentd-config"}}}},
					},
					NodeSelector: map[string]string{"ssd": "true"},
					Tolerations: []corev1.Toleration{
						{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						{Operator: corev1.TolerationOpExists},
						{Key: "dedicated", Value: "logging", Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &tolerationSeconds},
					},
				},
			},
			want: lines(
				"Pod Template:",
				"  Labels:           name=fluentd-elasticsearch",
				"                    tier=node",
				"  Annotations:      nodeagentset.io/restartedAt: 2026-03-04T05:06:07Z",
				"  Service Account:  fluentd",
				"  Containers:",
				"   fluentd-elasticsearch:",
				"    Image:       quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
				"    Ports:       24224/TCP (forward), 9880/UDP",
				"    Host Ports:  0/TCP (forward), 9880/UDP",
				"    Args:",
				"      --config",
				"      /etc/fluent.conf",
				"    Limits:",
				"      memory:  200Mi",
				"    Requests:",
				"      cpu:     100m",
				"      memory:  200Mi",
				"    Liveness:  http-get http://:9880/healthz delay=0s timeout=1s period=10s #success=1 #failure=3",
				"    Environment Variables from:",
				"      fluentd-env  ConfigMap  Optional: false",
				"    Environment:",
				"      NODE_NAME:    (v1:spec.nodeName)",
				"      ES_PASSWORD:  <set to the key 'password' in secret 'es'>  Optional: true",
				"      LOG_LEVEL:    info",
				"    Mounts:",
				"      /var/lib/docker/containers from containers (ro,path=\"logs\")",
				"      /var/log from varlog (rw)",
				"  Volumes:",
				"   varlog:",
				"    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)",
				"    Medium:     ",
				"    SizeLimit:  <unset>",
				"   config:",
				"    Type:          ConfigMap (a volume populated by a ConfigMap)",
				"    Name:          fluentd-config",
				"    Optional:      false",
				"  Node-Selectors:  ssd=true",
				"  Tolerations:     node-role.kubernetes.io/control-plane:NoSchedule op=Exists",
				"                   op=Exists",
				"                   dedicated=logging:NoExecute for 300s",
			),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodTemplate(&tc.template); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

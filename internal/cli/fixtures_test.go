package cli_test

import (
	"context"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	revstore "github.com/nodeagentset/nodeagentset/internal/revision"
)

// newNamespace gives a spec its own namespace, so specs never see each other's sets and revisions.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kubectl-nas-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// exampleSet is the basic DaemonSet of the seed walkthrough as a NodeAgentSet: an init container logging the
// machine id from a hostPath, and a pause container.
func exampleSet(ns, name string) *v1alpha1.NodeAgentSet {
	labels := map[string]string{"app.kubernetes.io/name": name}
	fileType := corev1.HostPathFile
	maxUnavailable := intstr.FromInt32(1)
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"team": "node-agents"}},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{
						Name:    "log-machine-id",
						Image:   "busybox:1.37",
						Command: []string{"sh", "-c", "cat /etc/machine-id > /var/log/machine-id.log"},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "machine-id", MountPath: "/etc/machine-id", ReadOnly: true},
							{Name: "log-dir", MountPath: "/var/log"},
						},
					}},
					Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.9"}},
					Volumes: []corev1.Volume{
						{Name: "machine-id", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc/machine-id", Type: &fileType}}},
						{Name: "log-dir", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
					},
				},
			},
			UpdateStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type:          v1alpha1.RollingUpdateStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{MaxUnavailable: &maxUnavailable},
			},
			MinReadySeconds: 5,
		},
	}
}

// create creates the set and returns it as stored (with its UID and generation).
func create(ctx context.Context, set *v1alpha1.NodeAgentSet) *v1alpha1.NodeAgentSet {
	Expect(k8sClient.Create(ctx, set)).To(Succeed())
	return get(ctx, set)
}

func get(ctx context.Context, set *v1alpha1.NodeAgentSet) *v1alpha1.NodeAgentSet {
	fresh := &v1alpha1.NodeAgentSet{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(set), fresh)).To(Succeed())
	return fresh
}

// writeStatus plays the controller: it sets the set's status through the status subresource, observing the set's
// current generation unless change says otherwise.
func writeStatus(ctx context.Context, set *v1alpha1.NodeAgentSet, change func(*v1alpha1.NodeAgentSet)) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := get(ctx, set)
		fresh.Status.ObservedGeneration = fresh.Generation
		change(fresh)
		return k8sClient.Status().Update(ctx, fresh)
	})).To(Succeed())
}

// counts writes the counters and the Ready and Progressing conditions the controller writes for them (the verdict
// `rollout status` reads): complete when every node is updated and available, partitioned when only the partition's
// nodes are left and every pod is available, paused while the spec says so, rolling otherwise.
func counts(desired, updated, available int32) func(*v1alpha1.NodeAgentSet) {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Status.DesiredNumberScheduled = desired
		s.Status.CurrentNumberScheduled = desired
		s.Status.UpdatedNumberScheduled = updated
		s.Status.NumberAvailable = available
		s.Status.NumberReady = available
		s.Status.NumberUnavailable = desired - available

		ready, progressing := "RollingUpdate", "RollingUpdate"
		readyStatus, progressingStatus := metav1.ConditionFalse, metav1.ConditionTrue
		partition := int32(0)
		ru := s.Spec.UpdateStrategy.RollingUpdate
		if ru != nil && ru.Partition != nil {
			p, _ := intstr.GetScaledValueFromIntOrPercent(ru.Partition, int(desired), true)
			partition = int32(p)
		}
		switch {
		case updated == desired && available == desired:
			ready, progressing, readyStatus = v1alpha1.ReasonRolloutComplete, v1alpha1.ReasonRolloutComplete, metav1.ConditionTrue
		case ru != nil && ru.Paused:
			progressing, progressingStatus = v1alpha1.ReasonRolloutPaused, metav1.ConditionFalse
		case updated >= desired-partition && available == desired:
			ready, progressing, readyStatus = v1alpha1.ReasonPartitioned, v1alpha1.ReasonPartitioned, metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: readyStatus,
			Reason: ready, Message: "written by the test", ObservedGeneration: s.Generation})
		meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionProgressing, Status: progressingStatus,
			Reason: progressing, Message: "written by the test", ObservedGeneration: s.Generation})
	}
}

// createRevision stores a revision of template for the set the way the controller does (internal/revision builds
// it), numbered number and with the given change-cause ("" for none).
func createRevision(ctx context.Context, set *v1alpha1.NodeAgentSet, template corev1.PodTemplateSpec, number int64, cause string) *appsv1.ControllerRevision {
	source := set.DeepCopy()
	source.Spec.Template = template
	delete(source.Annotations, v1alpha1.ChangeCauseAnnotation)
	if cause != "" {
		if source.Annotations == nil {
			source.Annotations = map[string]string{}
		}
		source.Annotations[v1alpha1.ChangeCauseAnnotation] = cause
	}
	rev, err := revstore.New(source, revstore.Hash(&source.Spec.Template, nil), number)
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Create(ctx, rev)).To(Succeed())
	return rev
}

// withImage is the set's template with one container's image changed.
func withImage(set *v1alpha1.NodeAgentSet, container, image string) corev1.PodTemplateSpec {
	t := *set.Spec.Template.DeepCopy()
	for i := range t.Spec.Containers {
		if t.Spec.Containers[i].Name == container {
			t.Spec.Containers[i].Image = image
		}
	}
	return t
}

// patchSet changes the set's spec as a user's edit would.
func patchSet(ctx context.Context, set *v1alpha1.NodeAgentSet, change func(*v1alpha1.NodeAgentSet)) *v1alpha1.NodeAgentSet {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := get(ctx, set)
		change(fresh)
		return k8sClient.Update(ctx, fresh)
	})).To(Succeed())
	return get(ctx, set)
}

package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/planner"
)

// The kstatus and Argo CD readings of a NodeAgentSet are checked on real objects: nodes, pods, ControllerRevisions
// and the set are created in the API server, the planner computes the status from them exactly as the reconciler
// does, the status goes through the /status subresource, and the object read back is what kstatus (Flux,
// `kubectl wait`, cli-utils) and health.lua (Argo CD) judge.

const (
	kstatusNodeLabel = "packaging.nodeagentset.io/kstatus"
	oldHash          = "5d8f6c7b9"
	newHash          = "7c9b5d6f8"
)

var kstatusNodes = []string{"kstatus-node-a", "kstatus-node-b", "kstatus-node-c"}

// podState is one node's pod in a scenario.
type podState struct {
	hash  string
	phase corev1.PodPhase
	ready bool
}

// failingNodes is a planner.BackoffView in which the listed nodes' failed pods are still backing off.
type failingNodes map[string]bool

func (f failingNodes) InBackoff(node string, _ time.Time) (bool, time.Duration) {
	if f[node] {
		return true, time.Minute
	}
	return false, 0
}

type scenario struct {
	namespace     string
	mutate        func(*v1alpha1.NodeAgentSet)
	pods          map[string]podState // by node
	backoff       failingNodes
	createFailure string
}

// realize creates the scenario's objects, lets the planner compute the status, writes it through /status, and
// returns the set as read back.
func realize(s scenario) *unstructured.Unstructured {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.namespace}})).To(Succeed())

	set := &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: "agent"},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{
					Containers:   []corev1.Container{{Name: "agent", Image: "registry.example.com/agent:2"}},
					NodeSelector: map[string]string{kstatusNodeLabel: "true"},
				},
			},
			UpdateStrategy: v1alpha1.NodeAgentSetUpdateStrategy{
				Type: v1alpha1.RollingUpdateStrategyType,
				RollingUpdate: &v1alpha1.RollingUpdateNodeAgentSet{
					MaxUnavailable: ptrTo(intstr.FromInt32(1)),
					MaxSurge:       ptrTo(intstr.FromInt32(0)),
				},
			},
		},
	}
	if s.mutate != nil {
		s.mutate(set)
	}
	Expect(k8s.Create(ctx, set)).To(Succeed())

	for i, hash := range []string{oldHash, newHash} {
		rev := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: "agent-" + hash,
				Labels: map[string]string{"app": "agent", v1alpha1.ControllerRevisionHashLabel: hash}},
			Data:     runtime.RawExtension{Raw: []byte(`{}`)},
			Revision: int64(i + 1),
		}
		Expect(k8s.Create(ctx, rev)).To(Succeed())
	}

	readySince := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	for _, node := range kstatusNodes {
		ps, ok := s.pods[node]
		if !ok {
			continue
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: "agent-" + node,
				Labels: map[string]string{"app": "agent", v1alpha1.ControllerRevisionHashLabel: ps.hash}},
			Spec: corev1.PodSpec{
				NodeName:                     node,
				Containers:                   []corev1.Container{{Name: "agent", Image: "registry.example.com/agent:" + ps.hash}},
				AutomountServiceAccountToken: ptrTo(false),
			},
		}
		Expect(k8s.Create(ctx, pod)).To(Succeed())
		readiness := corev1.ConditionFalse
		if ps.ready {
			readiness = corev1.ConditionTrue
		}
		pod.Status = corev1.PodStatus{
			Phase:      ps.phase,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: readiness, LastTransitionTime: readySince}},
		}
		Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
	}

	planned := plan(s)
	// Every scenario is about three eligible nodes; a status over none would make the checks vacuous.
	Expect(planned.DesiredNumberScheduled).To(BeEquivalentTo(len(kstatusNodes)), "desiredNumberScheduled")
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(set), set)).To(Succeed())
	set.Status = planned
	Expect(k8s.Status().Update(ctx, set)).To(Succeed())
	return readSet(s.namespace)
}

// plan runs the planner on the scenario's objects as the API server returns them.
func plan(s scenario) v1alpha1.NodeAgentSetStatus {
	GinkgoHelper()
	set := &v1alpha1.NodeAgentSet{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: "agent"}, set)).To(Succeed())
	var nodes corev1.NodeList
	Expect(k8s.List(ctx, &nodes, client.HasLabels{kstatusNodeLabel})).To(Succeed())
	var pods corev1.PodList
	Expect(k8s.List(ctx, &pods, client.InNamespace(s.namespace))).To(Succeed())
	var revs appsv1.ControllerRevisionList
	Expect(k8s.List(ctx, &revs, client.InNamespace(s.namespace))).To(Succeed())

	snap := planner.Snapshot{Set: set, Now: time.Now(), ExpectationsSatisfied: true, CreateFailure: s.createFailure,
		Backoff: s.backoff}
	for i := range nodes.Items {
		snap.Nodes = append(snap.Nodes, &nodes.Items[i])
	}
	for i := range pods.Items {
		snap.Pods = append(snap.Pods, &pods.Items[i])
	}
	for i := range revs.Items {
		snap.Revisions = append(snap.Revisions, &revs.Items[i])
		if revs.Items[i].Labels[v1alpha1.ControllerRevisionHashLabel] == newHash {
			snap.UpdateRevision = &revs.Items[i]
		}
	}
	if s.backoff == nil {
		snap.Backoff = planner.NoBackoff{}
	}
	return planner.Decide(snap).Status
}

func readSet(namespace string) *unstructured.Unstructured {
	GinkgoHelper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("NodeAgentSet"))
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "agent"}, u)).To(Succeed())
	return u
}

// argoHealth runs the Argo CD health check on the object.
func argoHealth(u *unstructured.Unstructured) string {
	GinkgoHelper()
	script, err := os.ReadFile(filepath.Join(repoRoot(GinkgoT()), healthCheckDir, "health.lua"))
	Expect(err).NotTo(HaveOccurred())
	s, msg, err := runHealthCheck(string(script), u.Object)
	Expect(err).NotTo(HaveOccurred())
	return s + ": " + msg
}

func conditionStatus(u *unstructured.Unstructured, condType string) metav1.ConditionStatus {
	GinkgoHelper()
	set := &v1alpha1.NodeAgentSet{}
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, set)).To(Succeed())
	c := meta.FindStatusCondition(set.Status.Conditions, condType)
	if c == nil {
		return ""
	}
	return c.Status
}

// stalledHint explains the likely cause when a stalled set does not read as Failed.
const stalledHint = "kstatus reads a set with Stalled=True as Failed only if no Reconciling=True comes before Stalled " +
	"in status.conditions (it takes the first of the two it finds); a stalled set should report Reconciling=False. " +
	"kstatus said: %s"

// updateTestdataEnv, set to 1, rewrites the captured testdata from the objects the API server returns.
const updateTestdataEnv = "NAS_UPDATE_TESTDATA"

// expectCaptured keeps health.lua's testdata in step with what the controller writes today: the set read back from
// the API server, without what the server assigns (uid, resourceVersion, creation time, managed fields) and with
// the conditions' transition times fixed, must equal testdata/<file>, which health_test.yaml judges. With
// NAS_UPDATE_TESTDATA=1 the file is written instead.
func expectCaptured(u *unstructured.Unstructured, file string) {
	GinkgoHelper()
	obj := u.DeepCopy()
	obj.SetUID("")
	obj.SetResourceVersion("")
	obj.SetCreationTimestamp(metav1.Time{})
	obj.SetManagedFields(nil)
	unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(obj.Object, "spec", "template", "metadata", "creationTimestamp")
	conditions, _, err := unstructured.NestedSlice(obj.Object, "status", "conditions")
	Expect(err).NotTo(HaveOccurred())
	for _, c := range conditions {
		c.(map[string]any)["lastTransitionTime"] = "2026-01-10T10:00:00Z"
	}
	if conditions != nil {
		Expect(unstructured.SetNestedSlice(obj.Object, conditions, "status", "conditions")).To(Succeed())
	}
	// The other times in the status are as fixed: when the progress deadline and the canary started counting.
	for _, path := range [][]string{{"status", "progressDeadlineBase"}, {"status", "canary", "startedAt"}} {
		if _, found, _ := unstructured.NestedString(obj.Object, path...); found {
			Expect(unstructured.SetNestedField(obj.Object, "2026-01-10T10:00:00Z", path...)).To(Succeed())
		}
	}
	data, err := yaml.Marshal(obj.Object)
	Expect(err).NotTo(HaveOccurred())
	data = append([]byte("# Captured from the API server by test/packaging (kstatus_test.go); "+updateTestdataEnv+"=1 rewrites it.\n"), data...)

	path := filepath.Join(repoRoot(GinkgoT()), healthCheckDir, "testdata", file)
	if os.Getenv(updateTestdataEnv) == "1" {
		Expect(os.WriteFile(path, data, 0o644)).To(Succeed())
		return
	}
	committed, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "run the packaging suite with %s=1 to capture it", updateTestdataEnv)
	Expect(string(committed)).To(Equal(string(data)),
		"the controller now writes a different status than testdata/%s holds; rerun with %s=1 and review health_test.yaml",
		file, updateTestdataEnv)
}

func ptrTo[T any](v T) *T { return &v }

func allPods(hash string) map[string]podState {
	m := map[string]podState{}
	for _, n := range kstatusNodes {
		m[n] = podState{hash: hash, phase: corev1.PodRunning, ready: true}
	}
	return m
}

var _ = Describe("kstatus and Argo CD health of real NodeAgentSets", Ordered, ContinueOnFailure, func() {
	BeforeAll(func() {
		for _, name := range kstatusNodes {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{kstatusNodeLabel: "true"}}}
			Expect(k8s.Create(ctx, node)).To(Succeed())
			// The API server taints a new node not-ready until a kubelet reports; play the kubelet.
			node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "KubeletReady"}}
			Expect(k8s.Status().Update(ctx, node)).To(Succeed())
			node.Spec.Taints = nil
			Expect(k8s.Update(ctx, node)).To(Succeed())
		}
	})

	It("reads a complete rollout as Current and Healthy, with Ready True for kubectl wait", func() {
		u := realize(scenario{namespace: "kstatus-complete", pods: allPods(newHash)})
		expectCaptured(u, "real_complete.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(status.CurrentStatus), res.Message)
		Expect(conditionStatus(u, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		Expect(argoHealth(u)).To(HavePrefix("Healthy: "))
	})

	It("reads a rolling update as InProgress and Progressing", func() {
		pods := allPods(oldHash)
		pods[kstatusNodes[0]] = podState{hash: newHash, phase: corev1.PodRunning, ready: true}
		u := realize(scenario{namespace: "kstatus-rolling", pods: pods})
		expectCaptured(u, "real_rolling_update.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(status.InProgressStatus), res.Message)
		Expect(conditionStatus(u, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
		Expect(argoHealth(u)).To(HavePrefix("Progressing: "))
	})

	It("reads a new pod that is not ready yet as InProgress and Progressing", func() {
		pods := allPods(newHash)
		pods[kstatusNodes[1]] = podState{hash: newHash, phase: corev1.PodRunning, ready: false}
		u := realize(scenario{namespace: "kstatus-unready", pods: pods})
		expectCaptured(u, "real_pod_unready.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(status.InProgressStatus), res.Message)
		Expect(argoHealth(u)).To(HavePrefix("Progressing: "))
	})

	It("reads pods that keep failing as Failed and Degraded", func() {
		pods := allPods(newHash)
		pods[kstatusNodes[1]] = podState{hash: newHash, phase: corev1.PodFailed}
		u := realize(scenario{namespace: "kstatus-failing", pods: pods, backoff: failingNodes{kstatusNodes[1]: true}})
		expectCaptured(u, "real_pods_failing.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(conditionStatus(u, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
		Expect(res.Status).To(Equal(status.FailedStatus), stalledHint, res.Message)
		Expect(argoHealth(u)).To(HavePrefix("Degraded: "))
	})

	It("reads refused pod creates as Failed and Degraded", func() {
		u := realize(scenario{namespace: "kstatus-refused",
			createFailure: `pods "agent-x" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, limited: pods=10`})
		expectCaptured(u, "real_create_refused.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(conditionStatus(u, v1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
		Expect(res.Status).To(Equal(status.FailedStatus), stalledHint, res.Message)
		Expect(argoHealth(u)).To(HavePrefix("Degraded: "))
	})

	It("reads a paused rollout as Suspended in Argo CD", func() {
		pods := allPods(oldHash)
		pods[kstatusNodes[0]] = podState{hash: newHash, phase: corev1.PodRunning, ready: true}
		u := realize(scenario{namespace: "kstatus-paused", pods: pods, mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy.RollingUpdate.Paused = true
		}})
		expectCaptured(u, "real_paused.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		// Every node runs an available pod, so for kstatus nothing is left to reconcile until the pause ends.
		Expect(res.Status).To(Equal(status.CurrentStatus), res.Message)
		Expect(conditionStatus(u, v1alpha1.ConditionProgressing)).To(Equal(metav1.ConditionFalse))
		Expect(argoHealth(u)).To(HavePrefix("Suspended: "))
	})

	It("reads a rollout that reached its partition as Current and Healthy", func() {
		pods := allPods(newHash)
		pods[kstatusNodes[0]] = podState{hash: oldHash, phase: corev1.PodRunning, ready: true}
		u := realize(scenario{namespace: "kstatus-partitioned", pods: pods, mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = ptrTo(intstr.FromInt32(1))
		}})
		expectCaptured(u, "real_partitioned.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(status.CurrentStatus), res.Message)
		Expect(argoHealth(u)).To(HavePrefix("Healthy: "))
	})

	It("reads an OnDelete set with old pods left as InProgress and Progressing", func() {
		u := realize(scenario{namespace: "kstatus-ondelete", pods: allPods(oldHash), mutate: func(s *v1alpha1.NodeAgentSet) {
			s.Spec.UpdateStrategy = v1alpha1.NodeAgentSetUpdateStrategy{Type: v1alpha1.OnDeleteStrategyType}
		}})
		expectCaptured(u, "real_ondelete_waiting.yaml")
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		// Old pods wait for someone to delete them: not done, for kstatus and Argo CD alike (the conditions say so;
		// only a status without conditions is judged as Argo CD judges an OnDelete DaemonSet).
		Expect(res.Status).To(Equal(status.InProgressStatus), res.Message)
		Expect(conditionStatus(u, v1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
		Expect(argoHealth(u)).To(HavePrefix("Progressing: "))
	})

	It("reads a spec change the controller has not observed as InProgress and Progressing", func() {
		u := realize(scenario{namespace: "kstatus-newspec", pods: allPods(newHash)})
		Expect(status.Compute(u)).To(HaveField("Status", status.CurrentStatus))

		set := &v1alpha1.NodeAgentSet{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "kstatus-newspec", Name: "agent"}, set)).To(Succeed())
		set.Spec.Template.Spec.Containers[0].Image = "registry.example.com/agent:3"
		Expect(k8s.Update(ctx, set)).To(Succeed())

		u = readSet("kstatus-newspec")
		expectCaptured(u, "real_generation_not_observed.yaml")
		Expect(u.GetGeneration()).To(BeNumerically(">", 1))
		res, err := status.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(status.InProgressStatus), res.Message)
		Expect(argoHealth(u)).To(Equal(fmt.Sprintf(
			"Progressing: Waiting for the controller to observe generation %d (observed %d)", u.GetGeneration(), u.GetGeneration()-1)))
	})
})

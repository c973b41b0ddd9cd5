package planner

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

const instanceType = "node.kubernetes.io/instance-type"

// classOverride is an override for nodes of one instance type that gives the agent container cpu requests.
func classOverride(name, class, cpu string) v1alpha1.NodeOverride {
	return v1alpha1.NodeOverride{
		Name:         name,
		NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{instanceType: class}},
		Containers: []v1alpha1.ContainerOverride{{
			Name:      "agent",
			Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
			Env:       []corev1.EnvVar{{Name: "GOMAXPROCS", Value: cpu}},
		}},
	}
}

func withOverrides(os ...v1alpha1.NodeOverride) setOpt {
	return func(s *v1alpha1.NodeAgentSet) { s.Spec.NodeOverrides = os }
}

// storedRevision is the ControllerRevision the controller would store for the set, under a fixed hash.
func storedRevision(t *testing.T, set *v1alpha1.NodeAgentSet, hash string, number int64) *appsv1.ControllerRevision {
	t.Helper()
	data, err := revision.Patch(set)
	if err != nil {
		t.Fatal(err)
	}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-" + hash, Namespace: "ops",
			Labels: map[string]string{v1alpha1.ControllerRevisionHashLabel: hash}},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
}

func classNode(name, class string) *corev1.Node { return node(name, label(instanceType, class)) }

// madeWith marks a pod as made with an override.
func madeWith(override string) podOpt {
	return func(p *corev1.Pod) {
		if override != "" {
			p.Annotations = map[string]string{v1alpha1.NodeOverrideAnnotation: override}
		}
	}
}

func updatesSummary(p Plan) []string {
	var out []string
	for _, u := range p.Updates {
		out = append(out, fmt.Sprintf("%s:%s->%s/%s", u.Pod.Name, u.Reason, revisionHash(u.Revision), u.NodeOverride))
	}
	return out
}

func TestOverridesRelabelOrReplace(t *testing.T) {
	// The old revision gives large nodes 500m, the new one 1 cpu; small nodes keep 250m in both.
	oldSet := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "500m"), classOverride("small", "t3.small", "250m")))
	newSetSpec := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "1"), classOverride("small", "t3.small", "250m")))
	templateChanged := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "500m"), classOverride("small", "t3.small", "250m")))
	templateChanged.Spec.Template.Spec.Containers[0].Image = "agent:3"

	fleet := []*corev1.Node{classNode("l1", "m7i.8xlarge"), classNode("l2", "m7i.8xlarge"),
		classNode("s1", "t3.small"), classNode("s2", "t3.small"), node("p1")}
	oldFleetPods := []*corev1.Pod{
		pod("old-l1", "l1", oldHash, madeWith("large")), pod("old-l2", "l2", oldHash, madeWith("large")),
		pod("old-s1", "s1", oldHash, madeWith("small")), pod("old-s2", "s2", oldHash, madeWith("small")),
		pod("old-p1", "p1", oldHash),
	}

	tests := []struct {
		name        string
		set         *v1alpha1.NodeAgentSet
		oldSet      *v1alpha1.NodeAgentSet
		nodes       []*corev1.Node
		pods        []*corev1.Pod
		unsatisfied bool
		wantUpdates []string
		wantDeletes []string
		wantCreates []string
	}{
		{
			name:   "an override change for one class relabels the other classes and replaces within maxUnavailable",
			set:    newSetSpec,
			oldSet: oldSet,
			nodes:  fleet,
			pods:   oldFleetPods,
			wantUpdates: []string{"old-p1:Relabel->new222/", "old-s1:Relabel->new222/small",
				"old-s2:Relabel->new222/small"},
			wantDeletes: []string{"old-l1:RollingUpdate"},
		},
		{
			name:        "a template change replaces every class",
			set:         templateChanged,
			oldSet:      oldSet,
			nodes:       fleet,
			pods:        oldFleetPods,
			wantDeletes: []string{"old-l1:RollingUpdate"},
		},
		{
			name:        "nothing is relabelled while the cache lags behind the controller's writes",
			set:         newSetSpec,
			oldSet:      oldSet,
			nodes:       fleet,
			pods:        oldFleetPods,
			unsatisfied: true,
		},
		{
			name:   "a node relabelled to another class gets its pod replaced, one node at a time",
			set:    newSetSpec,
			oldSet: newSetSpec,
			nodes:  []*corev1.Node{classNode("l1", "t3.small"), classNode("l2", "t3.small"), classNode("s1", "t3.small")},
			pods: []*corev1.Pod{
				pod("new-l1", "l1", newHash, madeWith("large")), pod("new-l2", "l2", newHash, madeWith("large")),
				pod("new-s1", "s1", newHash, madeWith("small")),
			},
			wantDeletes: []string{"new-l1:RollingUpdate"},
		},
		{
			name:        "a node that leaves every class gets its pod replaced",
			set:         newSetSpec,
			oldSet:      newSetSpec,
			nodes:       []*corev1.Node{node("l1")},
			pods:        []*corev1.Pod{pod("new-l1", "l1", newHash, madeWith("large"))},
			wantDeletes: []string{"new-l1:RollingUpdate"},
		},
		{
			name: "a node moved to a class whose override is the same content is relabelled",
			set: newSet(withOverrides(classOverride("large", "m7i.8xlarge", "1"),
				classOverride("large-arm", "m7g.8xlarge", "1"))),
			oldSet:      nil,
			nodes:       []*corev1.Node{classNode("l1", "m7g.8xlarge")},
			pods:        []*corev1.Pod{pod("new-l1", "l1", newHash, madeWith("large"))},
			wantUpdates: []string{"new-l1:Relabel->new222/large-arm"},
		},
		{
			name:        "a new node of a class gets a pod with its override",
			set:         newSetSpec,
			nodes:       []*corev1.Node{classNode("l9", "m7i.8xlarge"), node("p9")},
			wantCreates: []string{"l9:NodeWithoutPod/large", "p9:NodeWithoutPod/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := tt.set.DeepCopy()
			newRev := storedRevision(t, set, newHash, 2)
			revs := []*appsv1.ControllerRevision{newRev}
			if tt.oldSet != nil {
				revs = append(revs, storedRevision(t, tt.oldSet, oldHash, 1))
			}
			s := snapshot(set, tt.nodes, tt.pods...)
			s.Revisions, s.UpdateRevision = revs, newRev
			s.ExpectationsSatisfied = !tt.unsatisfied
			plan := Decide(s)
			_, deletes := summary(plan)
			var creates []string
			for _, c := range plan.Creates {
				creates = append(creates, fmt.Sprintf("%s:%s/%s", c.NodeName, c.Reason, c.NodeOverride))
			}
			if got := updatesSummary(plan); !equality.Semantic.DeepEqual(got, tt.wantUpdates) {
				t.Errorf("updates = %v, want %v", got, tt.wantUpdates)
			}
			if !equality.Semantic.DeepEqual(deletes, tt.wantDeletes) {
				t.Errorf("deletes = %v, want %v", deletes, tt.wantDeletes)
			}
			if !equality.Semantic.DeepEqual(creates, tt.wantCreates) {
				t.Errorf("creates = %v, want %v", creates, tt.wantCreates)
			}
		})
	}
}

func TestRelabelRespectsPauseAndPartition(t *testing.T) {
	old := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "500m")))
	changed := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "1")))
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	pods := oldPods("a", "b", "c")
	for _, tt := range []struct {
		name string
		opt  setOpt
		want []string
	}{
		{"paused: nothing moves", paused(), nil},
		{"partition 2: one node moves", partition("2"), []string{"old-a:Relabel->new222/"}},
		{"OnDelete: relabelling restarts nothing, so it happens", onDelete(),
			[]string{"old-a:Relabel->new222/", "old-b:Relabel->new222/", "old-c:Relabel->new222/"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set := changed.DeepCopy()
			tt.opt(set)
			newRev := storedRevision(t, set, newHash, 2)
			s := snapshot(set, nodes, pods...)
			s.Revisions = []*appsv1.ControllerRevision{storedRevision(t, old, oldHash, 1), newRev}
			s.UpdateRevision = newRev
			plan := Decide(s)
			if got := updatesSummary(plan); !equality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("updates = %v, want %v", got, tt.want)
			}
			if _, deletes := summary(plan); len(deletes) != 0 {
				t.Errorf("deletes = %v, want none", deletes)
			}
		})
	}
}

// daemonSetPod is the pod the DaemonSet controller and the API server make from set's template on a node: the
// DaemonSet's labels and tolerations, the node pin, then the scheduler's nodeName, the service account token volume,
// the priority admission and the pod defaults.
func daemonSetPod(set *v1alpha1.NodeAgentSet, name, nodeName, hash string) *corev1.Pod {
	p := placement.NewPodFromTemplate(set, &set.Spec.Template, nodeName, hash)
	p.Name, p.OwnerReferences = name, nil
	p.CreationTimestamp = metav1.NewTime(t0.Add(-2 * 60 * 60 * 1e9))
	p.Labels["pod-template-generation"] = "3"
	p.Spec.NodeName = nodeName
	spec := &p.Spec
	spec.RestartPolicy, spec.DNSPolicy, spec.SchedulerName = corev1.RestartPolicyAlways, corev1.DNSClusterFirst, corev1.DefaultSchedulerName
	grace, links, prio := int64(30), true, int32(0)
	spec.TerminationGracePeriodSeconds, spec.EnableServiceLinks, spec.Priority = &grace, &links, &prio
	preempt := corev1.PreemptLowerPriority
	spec.PreemptionPolicy = &preempt
	spec.SecurityContext = &corev1.PodSecurityContext{}
	spec.ServiceAccountName, spec.DeprecatedServiceAccount = "default", "default"
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}})
	for i := range spec.Containers {
		c := &spec.Containers[i]
		c.TerminationMessagePath, c.TerminationMessagePolicy = "/dev/termination-log", corev1.TerminationMessageReadFile
		c.ImagePullPolicy = corev1.PullIfNotPresent
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "kube-api-access-x7k2p",
			MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
	}
	// The DaemonSet controller adds its tolerations in its own order.
	for i, j := 0, len(spec.Tolerations)-1; i < j; i, j = i+1, j-1 {
		spec.Tolerations[i], spec.Tolerations[j] = spec.Tolerations[j], spec.Tolerations[i]
	}
	p.Status = pod(name, nodeName, hash).Status
	return p
}

func TestAdoptedDaemonSetPods(t *testing.T) {
	set := newSet()
	other := newSet()
	other.Spec.Template.Spec.Containers[0].Image = "agent:1"
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	pods := []*corev1.Pod{daemonSetPod(set, "ds-a", "a", "ds5f7c"), daemonSetPod(other, "ds-b", "b", "ds0old"),
		daemonSetPod(other, "ds-c", "c", "ds0old")}

	newRev := storedRevision(t, set, newHash, 1)
	s := snapshot(set, nodes, pods...)
	s.Revisions, s.UpdateRevision = []*appsv1.ControllerRevision{newRev}, newRev
	plan := Decide(s)
	if got, want := updatesSummary(plan), []string{"ds-a:Relabel->new222/"}; !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("updates = %v, want %v", got, want)
	}
	if _, deletes := summary(plan); !equality.Semantic.DeepEqual(deletes, []string{"ds-b:RollingUpdate"}) {
		t.Errorf("deletes = %v, want the first differing pod within maxUnavailable 1", deletes)
	}
	if plan.Status.UpdatedNumberScheduled != 1 {
		t.Errorf("updatedNumberScheduled = %d, want the relabelled pod counted", plan.Status.UpdatedNumberScheduled)
	}

	// The DaemonSet's revision adopted with the pods gives the same answer without looking at the pods.
	dsRev := storedRevision(t, set, "ds5f7c", 3)
	s.Revisions = []*appsv1.ControllerRevision{newRev, dsRev, storedRevision(t, other, "ds0old", 2)}
	if got := updatesSummary(Decide(s)); !equality.Semantic.DeepEqual(got, []string{"ds-a:Relabel->new222/"}) {
		t.Errorf("with the DaemonSet's revision: updates = %v", got)
	}
}

func TestNodeOverrideStatus(t *testing.T) {
	set := newSet(withOverrides(classOverride("large", "m7i.8xlarge", "1"), classOverride("small", "t3.small", "250m"),
		classOverride("unused", "x1.32xlarge", "4")))
	nodes := []*corev1.Node{classNode("l1", "m7i.8xlarge"), classNode("l2", "m7i.8xlarge"), classNode("s1", "t3.small"), node("p1")}
	pods := []*corev1.Pod{pod("new-l1", "l1", newHash, madeWith("large")), pod("old-l2", "l2", oldHash, madeWith("large"))}
	s := snapshot(set, nodes, pods...)
	s.ExpectationsSatisfied = false
	got := Decide(s).Status.NodeOverrides
	want := []v1alpha1.NodeOverrideStatus{{Name: "large", Nodes: 2, UpdatedNodes: 1}, {Name: "small", Nodes: 1}, {Name: "unused"}}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("status.nodeOverrides = %+v, want %+v", got, want)
	}
}

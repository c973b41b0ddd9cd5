package placement

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func testSet(mutate func(spec *corev1.PodSpec)) *v1alpha1.NodeAgentSet {
	set := &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ops", UID: "set-uid"},
		Spec: v1alpha1.NodeAgentSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyAlways,
					Containers:    []corev1.Container{{Name: "agent", Image: "agent:1"}},
				},
			},
		},
	}
	if mutate != nil {
		mutate(&set.Spec.Template.Spec)
	}
	return set
}

func testNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
}

func zoneOrNameAffinity(zone, nodeName string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{zone}},
			}},
			{MatchFields: []corev1.NodeSelectorRequirement{
				{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}},
			}},
		}},
	}}
}

func TestNodeShouldRunPod(t *testing.T) {
	noSchedule := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	noExecute := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
	preferNoSchedule := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectPreferNoSchedule}

	cases := []struct {
		name              string
		set               *v1alpha1.NodeAgentSet
		node              *corev1.Node
		wantRun, wantStay bool
	}{
		{"plain node runs the pod", testSet(nil), testNode("n1", nil), true, true},
		{
			"nodeSelector matches",
			testSet(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }),
			testNode("n1", map[string]string{"disk": "ssd"}), true, true,
		},
		{
			"nodeSelector does not match",
			testSet(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "ssd"} }),
			testNode("n1", map[string]string{"disk": "hdd"}), false, false,
		},
		{
			"affinity OR: zone term matches",
			testSet(func(s *corev1.PodSpec) { s.Affinity = zoneOrNameAffinity("z1", "special") }),
			testNode("n1", map[string]string{"zone": "z1"}), true, true,
		},
		{
			"affinity OR: node-name term matches",
			testSet(func(s *corev1.PodSpec) { s.Affinity = zoneOrNameAffinity("z1", "special") }),
			testNode("special", map[string]string{"zone": "z2"}), true, true,
		},
		{
			"affinity OR: neither term matches",
			testSet(func(s *corev1.PodSpec) { s.Affinity = zoneOrNameAffinity("z1", "special") }),
			testNode("n1", map[string]string{"zone": "z2"}), false, false,
		},
		{
			"nodeSelector and affinity must both match",
			testSet(func(s *corev1.PodSpec) {
				s.NodeSelector = map[string]string{"disk": "ssd"}
				s.Affinity = zoneOrNameAffinity("z1", "special")
			}),
			testNode("n1", map[string]string{"zone": "z1", "disk": "hdd"}), false, false,
		},
		{
			"untolerated NoSchedule taint: no new pod, a running one stays",
			testSet(nil), testNode("n1", nil, noSchedule), false, true,
		},
		{
			"untolerated NoExecute taint evicts",
			testSet(nil), testNode("n1", nil, noExecute), false, false,
		},
		{
			"untolerated NoSchedule and NoExecute taints evict",
			testSet(nil), testNode("n1", nil, noSchedule, noExecute), false, false,
		},
		{
			"PreferNoSchedule taint is ignored",
			testSet(nil), testNode("n1", nil, preferNoSchedule), true, true,
		},
		{
			"template toleration tolerates the NoExecute taint",
			testSet(func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
			}),
			testNode("n1", nil, noExecute, noSchedule), true, true,
		},
		{
			"unschedulable (cordoned) node is tolerated",
			testSet(nil),
			testNode("n1", nil, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}),
			true, true,
		},
		{
			"not-ready node is tolerated",
			testSet(nil),
			testNode("n1", nil,
				corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
				corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}),
			// The node lifecycle controller also puts not-ready:NoSchedule on the node, which the defaults do not
			// tolerate, so no new pod goes there, but the running one stays.
			false, true,
		},
		{
			"memory-pressure node is tolerated",
			testSet(nil),
			testNode("n1", nil, corev1.Taint{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule}),
			true, true,
		},
		{
			"network-unavailable node tolerated by a hostNetwork pod",
			testSet(func(s *corev1.PodSpec) { s.HostNetwork = true }),
			testNode("n1", nil, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}),
			true, true,
		},
		{
			"network-unavailable node not tolerated by a pod-network pod",
			testSet(nil),
			testNode("n1", nil, corev1.Taint{Key: corev1.TaintNodeNetworkUnavailable, Effect: corev1.TaintEffectNoSchedule}),
			false, true,
		},
		{
			"template nodeName names this node",
			testSet(func(s *corev1.PodSpec) { s.NodeName = "n1" }), testNode("n1", nil), true, true,
		},
		{
			"template nodeName names another node",
			testSet(func(s *corev1.PodSpec) { s.NodeName = "n2" }), testNode("n1", nil), false, false,
		},
		{
			"invalid affinity matches no node",
			testSet(func(s *corev1.PodSpec) {
				s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
						{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "Bogus"}}},
					}},
				}}
			}),
			testNode("n1", map[string]string{"zone": "z1"}), false, false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.set.DeepCopy()
			run, stay := NodeShouldRunPod(tc.node, tc.set)
			if run != tc.wantRun || stay != tc.wantStay {
				t.Fatalf("NodeShouldRunPod = (%v, %v), want (%v, %v)", run, stay, tc.wantRun, tc.wantStay)
			}
			if !reflect.DeepEqual(before, tc.set) {
				t.Fatalf("NodeShouldRunPod modified the set")
			}
		})
	}
}

func TestAddDefaultTolerations(t *testing.T) {
	defaults := func(extra ...corev1.Toleration) []corev1.Toleration {
		return append(append([]corev1.Toleration(nil), defaultTolerations...), extra...)
	}
	custom := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "agents", Effect: corev1.TaintEffectNoSchedule}

	cases := []struct {
		name string
		spec corev1.PodSpec
		want []corev1.Toleration
	}{
		{"empty spec gets the defaults", corev1.PodSpec{}, defaults()},
		{"hostNetwork adds network-unavailable", corev1.PodSpec{HostNetwork: true}, defaults(hostNetworkToleration)},
		{
			"template tolerations are kept first",
			corev1.PodSpec{Tolerations: []corev1.Toleration{custom}},
			append([]corev1.Toleration{custom}, defaultTolerations...),
		},
		{
			"an identical toleration is not duplicated",
			corev1.PodSpec{Tolerations: []corev1.Toleration{defaultTolerations[2]}},
			append([]corev1.Toleration{defaultTolerations[2]}, append(append([]corev1.Toleration(nil), defaultTolerations[:2]...), defaultTolerations[3:]...)...),
		},
		{
			"not-ready with tolerationSeconds becomes unbounded in place",
			corev1.PodSpec{Tolerations: []corev1.Toleration{{
				Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
				TolerationSeconds: ptr.To[int64](300),
			}}},
			defaults(),
		},
		{
			"a repeated matching toleration collapses to one",
			corev1.PodSpec{Tolerations: []corev1.Toleration{defaultTolerations[0], defaultTolerations[0]}},
			defaults(),
		},
		{
			"a toleration with another operator is a different toleration",
			corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}}},
			append([]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}}, defaultTolerations...),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec.DeepCopy()
			AddDefaultTolerations(spec)
			if !reflect.DeepEqual(spec.Tolerations, tc.want) {
				t.Fatalf("tolerations:\n got  %+v\n want %+v", spec.Tolerations, tc.want)
			}
			again := spec.DeepCopy()
			AddDefaultTolerations(again)
			if !reflect.DeepEqual(again.Tolerations, spec.Tolerations) {
				t.Fatalf("second call changed the tolerations:\n got  %+v\n want %+v", again.Tolerations, spec.Tolerations)
			}
		})
	}
}

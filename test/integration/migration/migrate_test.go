package migration

import (
	"bytes"
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

const (
	timeout  = 3 * time.Minute
	imageV2  = "registry.k8s.io/pause:3.9"
	setName  = "agent"
	numNodes = 5
)

func newDaemonSet(namespace string) *appsv1.DaemonSet {
	labels := map[string]string{"app": setName}
	maxUnavailable := intstr.FromInt32(1)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: setName, Labels: map[string]string{"team": "observability"},
			Annotations: map[string]string{"example.com/owner": "platform"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "agent", Image: testcluster.DefaultImage,
						Env:   []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
						Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}}}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable}},
			MinReadySeconds:      1,
			RevisionHistoryLimit: ptr.To[int32](5),
		},
	}
}

// runPlugin runs `kubectl nas ARGS` in the namespace and returns its output.
func runPlugin(ctx context.Context, namespace string, args ...string) (string, error) {
	kubeconfig, err := cluster.KubeconfigPath()
	Expect(err).NotTo(HaveOccurred())
	var out bytes.Buffer
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &out}
	err = cli.Run(ctx, append([]string{"--kubeconfig", kubeconfig, "-n", namespace}, args...), streams)
	return out.String(), err
}

// runningDaemonSet creates the DaemonSet and waits until the real DaemonSet controller runs a ready pod on every
// node; it returns the pods' UIDs by node.
func runningDaemonSet(ctx context.Context, namespace string, nodes []string) map[string]types.UID {
	GinkgoHelper()
	ds := newDaemonSet(namespace)
	Expect(cluster.Client.Create(ctx, ds)).To(Succeed())
	uids := map[string]types.UID{}
	Eventually(ctx, func(g Gomega) {
		pods, err := cluster.ListPods(ctx, namespace)
		g.Expect(err).NotTo(HaveOccurred())
		got := map[string]types.UID{}
		for _, p := range pods {
			ref := metav1.GetControllerOf(&p)
			g.Expect(ref).NotTo(BeNil())
			g.Expect(ref.Kind).To(Equal("DaemonSet"))
			g.Expect(testcluster.IsPodReady(&p)).To(BeTrue(), "pod %s ready", p.Name)
			got[p.Spec.NodeName] = p.UID
		}
		g.Expect(got).To(HaveLen(len(nodes)))
		uids = got
	}).WithTimeout(timeout).Should(Succeed())
	return uids
}

// expectMigrated checks that the DaemonSet is gone and that the set controls exactly the original pods, moved to
// its update revision, and reports the rollout complete.
func expectMigrated(ctx context.Context, namespace string, nodes []string, uids map[string]types.UID) *testcluster.SetView {
	GinkgoHelper()
	err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: setName}, &appsv1.DaemonSet{})
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the DaemonSet is deleted: %v", err)
	set, err := cluster.GetSet(ctx, namespace, setName)
	Expect(err).NotTo(HaveOccurred())
	v := cluster.ExpectSettled(ctx, set, timeout, nodes...)
	for node, pods := range v.ActivePodsByNode() {
		Expect(pods[0].UID).To(Equal(uids[node]), "node %s keeps its pod", node)
	}
	all, err := cluster.ListPods(ctx, namespace)
	Expect(err).NotTo(HaveOccurred())
	Expect(all).To(HaveLen(len(nodes)), "no pod was added or replaced")
	return v
}

// noSecondPod fails on any state in which a node holds two pods of the agent, or a pod of the agent is deleted.
func noSecondPod(ev testcluster.PodEvent, pods []corev1.Pod) []string {
	var problems []string
	if ev.Type == testcluster.PodDeleted {
		problems = append(problems, fmt.Sprintf("pod %s was deleted", ev.Pod.Name))
	}
	byNode := map[string]int{}
	for _, p := range pods {
		byNode[testcluster.TargetNode(&p)]++
	}
	for node, n := range byNode {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("node %s holds %d pods", node, n))
		}
	}
	return problems
}

var _ = Describe("kubectl nas migrate", func() {
	var ns string
	var nodes []string
	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "migrate", &testcluster.KubeletOptions{ReadyAfter: 200 * time.Millisecond})
		var err error
		nodes, err = cluster.CreateNodes(ctx, "node", numNodes)
		Expect(err).NotTo(HaveOccurred())
	})

	It("moves a DaemonSet's pods to a NodeAgentSet without restarting one, and set image then rolls out", func(ctx SpecContext) {
		uids := runningDaemonSet(ctx, ns, nodes)
		pods, err := cluster.ListPods(ctx, ns)
		Expect(err).NotTo(HaveOccurred())
		dsHash := pods[0].Labels[v1alpha1.ControllerRevisionHashLabel]
		watch, err := cluster.WatchPods(ctx, ns, noSecondPod)
		Expect(err).NotTo(HaveOccurred())
		defer watch.Stop()

		out, err := runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--timeout=2m")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("nodeagentset.apps.nodeagentset.io/agent created"))
		Expect(out).To(ContainSubstring("controls 5 pods of the DaemonSet, none restarted"))
		v := expectMigrated(ctx, ns, nodes, uids)
		Expect(watch.Violations()).To(BeEmpty())
		for _, p := range v.Pods {
			Expect(p.Labels).To(HaveKey("pod-template-generation"), "pod %s is the DaemonSet's", p.Name)
			Expect(p.Labels[v1alpha1.ControllerRevisionHashLabel]).NotTo(Equal(dsHash), "pod %s was relabelled", p.Name)
		}

		By("the set carries the DaemonSet's metadata and spec")
		Expect(v.Set.Labels).To(HaveKeyWithValue("team", "observability"))
		Expect(v.Set.Annotations).To(HaveKeyWithValue("example.com/owner", "platform"))
		Expect(v.Set.Annotations).NotTo(HaveKey("deprecated.daemonset.template.generation"))
		Expect(v.Set.Spec.MinReadySeconds).To(Equal(int32(1)))
		Expect(*v.Set.Spec.RevisionHistoryLimit).To(Equal(int32(5)))

		By("running it again changes nothing")
		out, err = runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--timeout=1m")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("already deleted"))
		watch.Stop()

		By("kubectl nas set image rolls the migrated pods out as any set's")
		out, err = runPlugin(ctx, ns, "set", "image", setName, "agent="+imageV2)
		Expect(err).NotTo(HaveOccurred(), out)
		set, err := cluster.GetSet(ctx, ns, setName)
		Expect(err).NotTo(HaveOccurred())
		Eventually(ctx, func(g Gomega) {
			v, err := cluster.ViewSet(ctx, ns, setName)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v.Set.Status.ObservedGeneration).To(Equal(set.Generation))
			g.Expect(v.CheckSettled(nodes)).To(Succeed())
			for _, p := range v.Pods {
				g.Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
				g.Expect(p.UID).NotTo(Equal(uids[p.Spec.NodeName]))
			}
		}).WithTimeout(timeout).Should(Succeed())
	})

	It("finishes a migration that was interrupted after the NodeAgentSet was created", func(ctx SpecContext) {
		uids := runningDaemonSet(ctx, ns, nodes)
		watch, err := cluster.WatchPods(ctx, ns, noSecondPod)
		Expect(err).NotTo(HaveOccurred())
		defer watch.Stop()

		By("step 1 alone: the NodeAgentSet the migration builds is created, then the run stops")
		manifest, err := runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--dry-run=client", "-o", "yaml")
		Expect(err).NotTo(HaveOccurred(), manifest)
		set := &v1alpha1.NodeAgentSet{}
		Expect(yaml.UnmarshalStrict([]byte(manifest), set)).To(Succeed())
		Expect(set.Annotations).To(HaveKey(v1alpha1.MigratedFromAnnotation))
		Expect(cluster.Client.Create(ctx, set)).To(Succeed())

		By("the controller takes the set up but leaves the DaemonSet's nodes alone")
		Eventually(ctx, func(g Gomega) {
			s, err := cluster.GetSet(ctx, ns, setName)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
			g.Expect(s.Status.DesiredNumberScheduled).To(Equal(int32(numNodes)))
		}).WithTimeout(timeout).Should(Succeed())
		Consistently(ctx, func(g Gomega) {
			pods, err := cluster.ListPods(ctx, ns)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods).To(HaveLen(numNodes))
			for _, p := range pods {
				g.Expect(metav1.GetControllerOf(&p).Kind).To(Equal("DaemonSet"))
			}
		}).WithTimeout(3 * time.Second).WithPolling(300 * time.Millisecond).Should(Succeed())

		By("running the migration again completes it")
		out, err := runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--timeout=2m")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("exists from an earlier run; reusing it"))
		expectMigrated(ctx, ns, nodes, uids)
		Expect(watch.Violations()).To(BeEmpty())
	})

	It("finishes the migration of a set applied from kubectl nas convert, whose template the API server did not default", func(ctx SpecContext) {
		uids := runningDaemonSet(ctx, ns, nodes)
		manifest, err := yaml.Marshal(newDaemonSet(ns))
		Expect(err).NotTo(HaveOccurred())
		in := bytes.NewBufferString("apiVersion: apps/v1\nkind: DaemonSet\n" + string(manifest))
		kubeconfig, err := cluster.KubeconfigPath()
		Expect(err).NotTo(HaveOccurred())
		var out bytes.Buffer
		Expect(cli.Run(ctx, []string{"--kubeconfig", kubeconfig, "convert", "-f", "-"},
			genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &out})).To(Succeed(), out.String())
		set := &v1alpha1.NodeAgentSet{}
		Expect(yaml.UnmarshalStrict(out.Bytes(), set)).To(Succeed())
		Expect(set.Spec.Template.Spec.DNSPolicy).To(BeEmpty(), "the converted template is not defaulted")
		Expect(cluster.Client.Create(ctx, set)).To(Succeed())

		watch, err := cluster.WatchPods(ctx, ns, noSecondPod)
		Expect(err).NotTo(HaveOccurred())
		defer watch.Stop()
		text, err := runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--timeout=2m")
		Expect(err).NotTo(HaveOccurred(), text)
		expectMigrated(ctx, ns, nodes, uids)
		Expect(watch.Violations()).To(BeEmpty())
	})

	It("refuses to take over a NodeAgentSet it did not make", func(ctx SpecContext) {
		runningDaemonSet(ctx, ns, nodes)
		other := testcluster.NewSet(ns, setName)
		Expect(cluster.Client.Create(ctx, other)).To(Succeed())
		out, err := runPlugin(ctx, ns, "migrate", "daemonset/"+setName, "--timeout=30s")
		Expect(err).To(MatchError(ContainSubstring("already exists and was not made by migrating this DaemonSet")), out)
		Expect(cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: setName}, &appsv1.DaemonSet{})).To(Succeed())
	})
})

package testcluster

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/controller"
)

// cleanupMargin is the time left between Ginkgo's own suite timeout and go test's -timeout, so that on a hung
// spec Ginkgo (not go test's panic) ends the run and the AfterSuite and DeferCleanup nodes still stop the
// control plane.
const cleanupMargin = 2 * time.Minute

// SuiteStartTimeout is a generous bound for BeforeSuite: starting etcd, kube-apiserver, the scheduler and the
// controller-manager on a busy machine.
const SuiteStartTimeout = 5 * time.Minute

// RunSuite runs the package's Ginkgo specs with Gomega wired in and a suite timeout that leaves room for cleanup
// before go test's -timeout fires.
func RunSuite(t *testing.T, description string) {
	t.Helper()
	gomega.RegisterFailHandler(ginkgo.Fail)
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	if deadline, ok := t.Deadline(); ok {
		if left := time.Until(deadline) - cleanupMargin; left > 0 && (suiteConfig.Timeout == 0 || left < suiteConfig.Timeout) {
			suiteConfig.Timeout = left
		}
	}
	ginkgo.RunSpecs(t, description, suiteConfig, reporterConfig)
}

// SpecNamespace, called from a BeforeEach, creates the spec's namespace and, unless kubelet is nil, starts a fake
// kubelet for it (its Namespace is set to the new one). Cleanup is registered with DeferCleanup: on failure the
// namespace's state and the component logs are printed, then the kubelet stops and Reset clears the cluster for
// the next spec.
func (c *Cluster) SpecNamespace(ctx context.Context, prefix string, kubelet *KubeletOptions) string {
	ginkgo.GinkgoHelper()
	ns, err := c.CreateNamespace(ctx, prefix)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.DeferCleanup(func(ctx context.Context) {
		gomega.Expect(c.Reset(ctx)).To(gomega.Succeed())
	}, ginkgo.NodeTimeout(2*resetTimeout))
	if kubelet != nil {
		opts := *kubelet
		opts.Namespace = ns
		k, err := c.StartKubelet(ctx, opts)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		ginkgo.DeferCleanup(k.Stop)
	}
	ginkgo.DeferCleanup(func(ctx context.Context) {
		if ginkgo.CurrentSpecReport().Failed() {
			c.Describe(ctx, ginkgo.GinkgoWriter, ns)
			c.DumpLogs(ginkgo.GinkgoWriter, 40)
		}
	})
	return ns
}

// Describe writes what the cluster holds for a namespace (sets with their status, pods with node, phase,
// readiness, revision hash and owner, and every node) so that a failed spec's output says what the controller
// did.
func (c *Cluster) Describe(ctx context.Context, w io.Writer, namespace string) {
	nodes := &corev1.NodeList{}
	if err := c.Client.List(ctx, nodes); err != nil {
		fmt.Fprintf(w, "listing nodes: %v\n", err)
	}
	fmt.Fprintf(w, "==== nodes (%d)\n", len(nodes.Items))
	for _, n := range nodes.Items {
		ready := "?"
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				ready = string(cond.Status)
			}
		}
		fmt.Fprintf(w, "  %s ready=%s unschedulable=%v labels=%v taints=%v\n", n.Name, ready, n.Spec.Unschedulable, n.Labels, n.Spec.Taints)
	}
	sets := &v1alpha1.NodeAgentSetList{}
	if err := c.Client.List(ctx, sets, client.InNamespace(namespace)); err != nil {
		fmt.Fprintf(w, "listing NodeAgentSets: %v\n", err)
	}
	for _, s := range sets.Items {
		st := s.Status
		fmt.Fprintf(w, "==== NodeAgentSet %s/%s generation=%d deleting=%v\n", s.Namespace, s.Name, s.Generation, s.DeletionTimestamp != nil)
		fmt.Fprintf(w, "  desired=%d current=%d ready=%d updated=%d available=%d unavailable=%d misscheduled=%d observedGeneration=%d collisionCount=%v\n",
			st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.UpdatedNumberScheduled,
			st.NumberAvailable, st.NumberUnavailable, st.NumberMisscheduled, st.ObservedGeneration, derefInt32(st.CollisionCount))
		fmt.Fprintf(w, "  currentRevision=%s updateRevision=%s\n", st.CurrentRevision, st.UpdateRevision)
		for _, cond := range st.Conditions {
			fmt.Fprintf(w, "  condition %s=%s reason=%s observedGeneration=%d: %s\n", cond.Type, cond.Status, cond.Reason, cond.ObservedGeneration, cond.Message)
		}
	}
	pods, err := c.ListPods(ctx, namespace)
	if err != nil {
		fmt.Fprintf(w, "%v\n", err)
	}
	fmt.Fprintf(w, "==== pods in %s (%d)\n", namespace, len(pods))
	for _, p := range pods {
		owner := "<none>"
		if ref := metav1.GetControllerOf(&p); ref != nil {
			owner = ref.Kind + "/" + ref.Name
		}
		image := ""
		if len(p.Spec.Containers) > 0 {
			image = p.Spec.Containers[0].Image
		}
		fmt.Fprintf(w, "  %s node=%q phase=%s ready=%v deleting=%v hash=%s owner=%s image=%s created=%s\n",
			p.Name, p.Spec.NodeName, p.Status.Phase, IsPodReady(&p), p.DeletionTimestamp != nil,
			p.Labels[v1alpha1.ControllerRevisionHashLabel], owner, image, p.CreationTimestamp.Format(time.RFC3339))
	}
	events := &corev1.EventList{}
	if err := c.Client.List(ctx, events, client.InNamespace(namespace)); err == nil {
		items := events.Items
		if len(items) > maxDescribedEvents {
			items = items[len(items)-maxDescribedEvents:]
		}
		fmt.Fprintf(w, "==== events in %s (%d, last %d shown)\n", namespace, len(events.Items), len(items))
		for _, e := range items {
			fmt.Fprintf(w, "  %s %s %s/%s: %s (x%d)\n", e.Type, e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message, e.Count)
		}
	}
}

// maxDescribedEvents keeps Describe's output readable.
const maxDescribedEvents = 40

func derefInt32(p *int32) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// ExpectSettled waits, up to timeout, until exactly the given nodes run one ready pod of the set's update
// revision each and the status says so (SetView.CheckSettled); it returns that view. On timeout the failure
// names what was still wrong.
func (c *Cluster) ExpectSettled(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, nodes ...string) *SetView {
	ginkgo.GinkgoHelper()
	return c.expectView(ctx, set, timeout, func(v *SetView) error { return v.CheckSettled(nodes) })
}

// ExpectPodsOn is ExpectSettled without the status checks (SetView.CheckPodsOn).
func (c *Cluster) ExpectPodsOn(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, nodes ...string) *SetView {
	ginkgo.GinkgoHelper()
	return c.expectView(ctx, set, timeout, func(v *SetView) error { return v.CheckPodsOn(nodes) })
}

func (c *Cluster) expectView(ctx context.Context, set *v1alpha1.NodeAgentSet, timeout time.Duration, check func(*SetView) error) *SetView {
	ginkgo.GinkgoHelper()
	var last *SetView
	gomega.Eventually(ctx, func() error {
		v, err := c.ViewSet(ctx, set.Namespace, set.Name)
		if err != nil {
			return err
		}
		last = v
		return check(v)
	}).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(gomega.Succeed())
	return last
}

// Suite is the control plane of a Ginkgo suite, set once its BeforeSuite has run. It embeds the Cluster so specs
// use it as one.
type Suite struct {
	*Cluster
}

// RegisterSuite registers, at the top level of a suite, the BeforeSuite that starts a control plane with opts (and
// the NodeAgentSet manager in this process unless manager is nil) and the AfterSuite that stops it. The returned
// Suite is usable from the specs on.
func RegisterSuite(opts Options, manager *controller.Options) *Suite {
	s := &Suite{}
	ginkgo.BeforeSuite(func(ctx ginkgo.SpecContext) {
		logf.SetLogger(zap.New(zap.WriteTo(ginkgo.GinkgoWriter), zap.UseDevMode(true)))
		if opts.Log == nil {
			opts.Log = ginkgo.GinkgoWriter
		}
		c, err := Start(ctx, opts)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		s.Cluster = c
		ginkgo.DeferCleanup(c.Stop)
		if manager != nil {
			gomega.Expect(c.StartManager(ctx, *manager)).To(gomega.Succeed())
		}
	}, ginkgo.NodeTimeout(SuiteStartTimeout))
	ginkgo.AfterSuite(func() {
		if s.Cluster != nil {
			gomega.Expect(s.Stop()).To(gomega.Succeed())
		}
	})
	return s
}

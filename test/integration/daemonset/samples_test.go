package daemonset

import (
	"os"
	"path/filepath"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// samplesDir is config/samples of this repository.
func samplesDir() string {
	GinkgoHelper()
	root, err := testcluster.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(root, "config", "samples")
}

// loadSample reads a sample manifest and moves it into the spec's namespace (the fluentd one names kube-system).
func loadSample(file, namespace string) *v1alpha1.NodeAgentSet {
	GinkgoHelper()
	set, err := testcluster.LoadSet(filepath.Join(samplesDir(), file))
	Expect(err).NotTo(HaveOccurred())
	set.Namespace = namespace
	return set
}

// The seed walkthroughs' DaemonSets as NodeAgentSets (config/samples), on a small cluster shaped like theirs: two
// workers (one labelled ssd=true), a control-plane node with the control-plane taint, and an older control-plane
// node with the legacy master taint.
var _ = Describe("the config/samples manifests", func() {
	const (
		worker       = "worker-0"
		ssdWorker    = "worker-ssd"
		controlPlane = "control-plane"
		legacyMaster = "legacy-master"
	)
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "samples", &testcluster.KubeletOptions{})
		createNode(ctx, worker)
		createNode(ctx, ssdWorker, testcluster.WithLabels(map[string]string{"ssd": "true"}))
		createNode(ctx, controlPlane,
			testcluster.WithLabels(map[string]string{"node-role.kubernetes.io/control-plane": ""}),
			testcluster.WithTaints(corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}))
		createNode(ctx, legacyMaster,
			testcluster.WithLabels(map[string]string{"node-role.kubernetes.io/master": ""}),
			testcluster.WithTaints(corev1.Taint{Key: "node-role.kubernetes.io/master", Effect: corev1.TaintEffectNoSchedule}))
	})

	It("are all listed in kustomization.yaml", func() {
		raw, err := os.ReadFile(filepath.Join(samplesDir(), "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var kustomization struct {
			Resources []string `json:"resources"`
		}
		Expect(yaml.Unmarshal(raw, &kustomization)).To(Succeed())
		files, err := filepath.Glob(filepath.Join(samplesDir(), "apps_v1alpha1_nodeagentset_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		sort.Strings(names)
		Expect(kustomization.Resources).To(ConsistOf(names))
	})

	DescribeTable("each ends with one ready pod on every eligible node",
		func(ctx SpecContext, file string, eligible []string) {
			set := createSet(ctx, loadSample(file, ns))
			expectSettled(ctx, set, eligible...)
		},
		Entry("example-daemonset: init container and hostPath volumes, on untainted nodes",
			"apps_v1alpha1_nodeagentset_example-daemonset.yaml", []string{worker, ssdWorker}),
		Entry("fluentd-elasticsearch: tolerates the control-plane taints, so on every node",
			"apps_v1alpha1_nodeagentset_fluentd-elasticsearch.yaml", []string{worker, ssdWorker, controlPlane, legacyMaster}),
		Entry("redis-ds: tolerates the legacy master taint only",
			"apps_v1alpha1_nodeagentset_redis-ds.yaml", []string{worker, ssdWorker, legacyMaster}),
	)

	It("ssd-driver runs on the ssd=true nodes, and labelling another node adds a pod there", func(ctx SpecContext) {
		set := createSet(ctx, loadSample("apps_v1alpha1_nodeagentset_ssd-driver.yaml", ns))
		expectSettled(ctx, set, ssdWorker)

		Expect(cluster.SetNodeLabels(ctx, worker, map[string]*string{"ssd": ptr.To("true")})).To(Succeed())
		expectSettled(ctx, set, worker, ssdWorker)
	})
})

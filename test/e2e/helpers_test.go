//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

var (
	// root is the repository checkout; bin/ holds kubectl (the cluster's version), kubectl-nas and the manager.
	root string
	// kubeconfig is the admin kubeconfig of the cluster under test.
	kubeconfig string
	// kubectlBin is bin/kubectl, the kubectl built for the cluster's version (never the one on the machine's PATH).
	kubectlBin string
	// logDir holds the component logs when the suite started the cluster itself.
	logDir string
)

const controlPlaneLabel = "node-role.kubernetes.io/control-plane"

func repoRoot() string {
	dir, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		Expect(parent).NotTo(Equal(dir), "no go.mod above the test directory")
		dir = parent
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + "\n"
}

// kubectl runs the cluster's kubectl with bin/ first on PATH, so `kubectl nas` finds the plugin built from this
// checkout. It returns stdout; a failure's error carries stderr.
func kubectl(args ...string) (string, error) {
	return kubectlWithInput("", args...)
}

func kubectlWithInput(stdin string, args ...string) (string, error) {
	cmd := exec.Command(kubectlBin, args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+kubeconfig,
		"PATH="+filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fmt.Fprintf(GinkgoWriter, "$ kubectl %s\n", strings.Join(args, " "))
	err := cmd.Run()
	if err != nil {
		GinkgoWriter.Printf("%s%s(%v)\n", stdout.String(), stderr.String(), err)
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	// Show what a user would see, but not the JSON the helpers decode.
	if out := stdout.String(); out != "" && !slices.Contains(args, "json") {
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		GinkgoWriter.Print(out)
	}
	return stdout.String(), nil
}

// mustKubectl runs kubectl and fails the spec if it fails.
func mustKubectl(args ...string) string {
	GinkgoHelper()
	out, err := kubectl(args...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

func testdata(name string) string {
	return filepath.Join(root, "test", "e2e", "testdata", name)
}

// createNamespace makes a namespace for one walkthrough, waits for its default ServiceAccount (pods cannot be
// created before the controller-manager adds it) and deletes it after the spec.
func createNamespace(prefix string) string {
	GinkgoHelper()
	ns := prefix + "-" + utilrand.String(5)
	mustKubectl("create", "namespace", ns)
	DeferCleanup(func() { _, _ = kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found") })
	Eventually(func() error {
		_, err := kubectl("get", "serviceaccount", "default", "-n", ns)
		return err
	}).Should(Succeed())
	return ns
}

func nodeNames(selector string) []string {
	GinkgoHelper()
	args := []string{"get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"}
	if selector != "" {
		args = append(args, "-l", selector)
	}
	names := strings.Fields(mustKubectl(args...))
	sort.Strings(names)
	return names
}

func workerNodes() []string       { return nodeNames("!" + controlPlaneLabel) }
func controlPlaneNodes() []string { return nodeNames(controlPlaneLabel) }
func allNodes() []string          { return nodeNames("") }

// createNode adds a simulated worker node from the template hack/run-local.sh uses, with extra labels, and deletes
// it after the spec if it still exists.
func createNode(name, ip string, labels map[string]string) {
	GinkgoHelper()
	tmpl, err := os.ReadFile(filepath.Join(root, "hack", "local", "nodes", "worker.yaml"))
	Expect(err).NotTo(HaveOccurred())
	manifest := strings.NewReplacer("__NAME__", name, "__ZONE__", "zone-a", "__IP__", ip).Replace(string(tmpl))
	var extra strings.Builder
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&extra, "    %s: %q\n", k, labels[k])
	}
	manifest = strings.Replace(manifest, "  labels:\n", "  labels:\n"+extra.String(), 1)
	_, err = kubectlWithInput(manifest, "create", "-f", "-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _, _ = kubectl("delete", "node", name, "--ignore-not-found") })
}

// pods lists the pods in ns matching selector, sorted by node then name.
func pods(ns, selector string) []corev1.Pod {
	GinkgoHelper()
	out := mustKubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json")
	var list corev1.PodList
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		if a.Spec.NodeName != b.Spec.NodeName {
			return a.Spec.NodeName < b.Spec.NodeName
		}
		return a.Name < b.Name
	})
	return list.Items
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// expectOneReadyPodPerNode asserts (inside Eventually) that the live pods of ns/selector are exactly one Running and
// Ready pod on each of nodes, and that none is left terminating.
func expectOneReadyPodPerNode(g Gomega, ns, selector string, nodes []string) []corev1.Pod {
	list := pods(ns, selector)
	var onNodes []string
	for _, p := range list {
		g.Expect(p.DeletionTimestamp).To(BeNil(), "pod %s on %s is still terminating", p.Name, p.Spec.NodeName)
		g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning), "pod %s on %s", p.Name, p.Spec.NodeName)
		g.Expect(podReady(p)).To(BeTrue(), "pod %s on %s is not Ready", p.Name, p.Spec.NodeName)
		onNodes = append(onNodes, p.Spec.NodeName)
	}
	want := append([]string(nil), nodes...)
	sort.Strings(want)
	g.Expect(onNodes).To(Equal(want), "nodes running a pod of %s in %s", selector, ns)
	return list
}

// getSet reads a NodeAgentSet.
func getSet(ns, name string) v1alpha1.NodeAgentSet {
	GinkgoHelper()
	var set v1alpha1.NodeAgentSet
	Expect(json.Unmarshal([]byte(mustKubectl("get", "nodeagentset", name, "-n", ns, "-o", "json")), &set)).To(Succeed())
	return set
}

// expectSettled asserts (inside Eventually) that the controller acted on the latest spec and reports want pods
// desired, current, ready, up to date and available.
func expectSettled(g Gomega, ns, name string, want int) {
	set := getSet(ns, name)
	st := set.Status
	g.Expect(st.ObservedGeneration).To(Equal(set.Generation), "observedGeneration")
	g.Expect([]int32{st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.UpdatedNumberScheduled,
		st.NumberAvailable, st.NumberMisscheduled}).To(Equal([]int32{int32(want), int32(want), int32(want), int32(want),
		int32(want), 0}), "desired, current, ready, up-to-date, available, misscheduled")
}

// images returns node -> image of the named container, for the live pods of ns/selector.
func images(ns, selector, container string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	for _, p := range pods(ns, selector) {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Spec.Containers {
			if c.Name == container {
				out[p.Spec.NodeName] = c.Image
			}
		}
	}
	return out
}

// allImages is node -> image for every node in nodes.
func allImages(nodes []string, image string) map[string]string {
	out := map[string]string{}
	for _, n := range nodes {
		out[n] = image
	}
	return out
}

// table splits kubectl's column output into a header and rows of cells. Cells are cut at the columns where the
// header's names start, so headers with spaces (NODE SELECTOR) and empty cells keep their place.
func table(out string) (header []string, rows [][]string) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, nil
	}
	var starts []int
	head := lines[0]
	for i := 0; i < len(head); i++ {
		// A column starts after two or more spaces (or at the beginning of the line).
		if head[i] != ' ' && (i == 0 || (i >= 2 && head[i-1] == ' ' && head[i-2] == ' ')) {
			starts = append(starts, i)
		}
	}
	cut := func(line string) []string {
		cells := make([]string, len(starts))
		for c, from := range starts {
			to := len(line)
			if c+1 < len(starts) && starts[c+1] < to {
				to = starts[c+1]
			}
			if from < len(line) {
				cells[c] = strings.TrimSpace(line[from:to])
			}
		}
		return cells
	}
	header = cut(head)
	for _, l := range lines[1:] {
		rows = append(rows, cut(l))
	}
	return header, rows
}

// metav1ControllerOf is the pod's controller owner reference, if any.
func metav1ControllerOf(p corev1.Pod) *metav1.OwnerReference {
	return metav1.GetControllerOf(&p)
}

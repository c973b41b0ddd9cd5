//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// e2ePortBase keeps the suite's cluster clear of one a developer runs with make run-local (base 17000).
const e2ePortBase = "27000"

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "NodeAgentSet e2e (seed walkthroughs on a local simulated cluster)")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(time.Second)
	SetDefaultConsistentlyDuration(10 * time.Second)
	SetDefaultConsistentlyPollingInterval(time.Second)

	root = repoRoot()
	if kc := os.Getenv("E2E_KUBECONFIG"); kc != "" {
		kubeconfig = kc
		By("using the cluster in E2E_KUBECONFIG=" + kc)
	} else {
		startCluster()
	}
	kubectlBin = filepath.Join(root, "bin", "kubectl")
	Expect(kubectlBin).To(BeAnExistingFile(), "bin/kubectl is linked by hack/run-local.sh")

	By("checking the cluster: nodes Ready, CRD served")
	Expect(kubectl("get", "crd", "nodeagentsets.apps.nodeagentset.io")).Error().NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		g.Expect(kubectl("wait", "--for=condition=Ready", "nodes", "--all", "--timeout=5s")).Error().NotTo(HaveOccurred())
	}).Should(Succeed())
	Expect(len(workerNodes())).To(BeNumerically(">=", 3),
		"the walkthroughs need at least 3 worker nodes (hack/run-local.sh --nodes 4 or more)")
})

// startCluster brings up a fresh local cluster with hack/run-local.sh --detach, without samples, and registers its
// teardown.
func startCluster() {
	// Not GinkgoT().TempDir(): with E2E_KEEP_CLUSTER the state must outlive the suite.
	parent, err := os.MkdirTemp("", "nodeagentset-e2e-")
	Expect(err).NotTo(HaveOccurred())
	stateDir := filepath.Join(parent, "cluster")
	env := append(os.Environ(),
		"LOCAL_CLUSTER_DIR="+stateDir,
		"LOCAL_PORT_BASE="+e2ePortBase,
		"LOCAL_DETACH=true",
		"LOCAL_SAMPLES=false",
	)
	if n := os.Getenv("E2E_NODES"); n != "" {
		env = append(env, "LOCAL_NODES="+n)
	}
	By("starting a local cluster in " + stateDir)
	up := exec.Command(filepath.Join(root, "hack", "run-local.sh"))
	up.Env = env
	up.Stdout, up.Stderr = GinkgoWriter, GinkgoWriter
	DeferCleanup(func() {
		if os.Getenv("E2E_KEEP_CLUSTER") == "true" {
			GinkgoWriter.Printf("E2E_KEEP_CLUSTER=true: leaving the cluster in %s running\n", stateDir)
			return
		}
		By("stopping the local cluster")
		down := exec.Command(filepath.Join(root, "hack", "stop-local.sh"))
		down.Env = env
		down.Stdout, down.Stderr = GinkgoWriter, GinkgoWriter
		Expect(down.Run()).To(Succeed())
		Expect(os.RemoveAll(parent)).To(Succeed())
	})
	Expect(up.Run()).To(Succeed(), "hack/run-local.sh failed; its output is above")
	kubeconfig = filepath.Join(stateDir, "kubeconfig")
	logDir = filepath.Join(stateDir, "logs")
}

// On failure, show what the cluster looked like before the spec's cleanups ran.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() || kubeconfig == "" {
		return
	}
	for _, args := range [][]string{
		{"get", "nodes", "-o", "wide", "--show-labels"},
		{"get", "nodeagentsets,controllerrevisions,pods", "--all-namespaces", "-o", "wide"},
		{"get", "events", "--all-namespaces", "--sort-by=.lastTimestamp"},
	} {
		out, err := kubectl(args...)
		GinkgoWriter.Printf("$ kubectl %v\n%s%v\n", args, out, errOrEmpty(err))
	}
	if logDir != "" {
		if data, err := exec.Command("tail", "-n", "60", filepath.Join(logDir, "manager.log")).Output(); err == nil {
			GinkgoWriter.Printf("--- last lines of the manager log ---\n%s\n", data)
		}
	}
})

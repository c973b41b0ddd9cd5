package daemonset

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestDaemonSetContract(t *testing.T) {
	testcluster.RunSuite(t, "NodeAgentSet DaemonSet contract (real API server)")
}

// cluster is the suite's control plane: etcd, kube-apiserver, kube-scheduler and a kube-controller-manager with
// the garbage collectors, plus the NodeAgentSet manager in this process. Specs run one after another, each in its
// own namespace; the cluster is reset between them.
var cluster *testcluster.Cluster

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	cluster, err = testcluster.Start(ctx, testcluster.Options{Scheduler: true, ControllerManager: true, Log: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cluster.Stop)
	Expect(cluster.StartManager(ctx, controller.Options{})).To(Succeed())
}, NodeTimeout(testcluster.SuiteStartTimeout))

var _ = AfterSuite(func() {
	if cluster != nil {
		Expect(cluster.Stop()).To(Succeed())
	}
})

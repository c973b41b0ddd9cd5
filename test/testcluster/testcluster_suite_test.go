package testcluster_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestTestCluster(t *testing.T) {
	testcluster.RunSuite(t, "testcluster harness")
}

var cluster *testcluster.Cluster

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	cluster, err = testcluster.Start(ctx, testcluster.Options{Scheduler: true, ControllerManager: true, Log: GinkgoWriter})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cluster.Stop)
}, NodeTimeout(testcluster.SuiteStartTimeout))

var _ = AfterSuite(func() {
	if cluster != nil {
		Expect(cluster.Stop()).To(Succeed())
	}
})

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() && cluster != nil {
		cluster.DumpLogs(GinkgoWriter, 80)
	}
})

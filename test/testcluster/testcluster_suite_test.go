package testcluster_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestTestCluster(t *testing.T) {
	testcluster.RunSuite(t, "testcluster harness")
}

// cluster runs the harness's own smoke specs: a control plane with scheduler and controller-manager, no manager.
var cluster = testcluster.RegisterSuite(testcluster.Options{Scheduler: true, ControllerManager: true}, nil)

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() && cluster.Cluster != nil {
		cluster.DumpLogs(GinkgoWriter, 80)
	}
})

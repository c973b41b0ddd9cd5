package migration

import (
	"testing"

	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestMigration(t *testing.T) {
	testcluster.RunSuite(t, "Migration from a DaemonSet (real DaemonSet controller)")
}

// cluster runs etcd, kube-apiserver, kube-scheduler and a kube-controller-manager with the DaemonSet controller and
// the garbage collector, plus the NodeAgentSet manager in this process.
var cluster = testcluster.RegisterSuite(testcluster.Options{Scheduler: true, DaemonSetController: true}, &controller.Options{})

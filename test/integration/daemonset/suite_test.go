package daemonset

import (
	"testing"

	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestDaemonSetContract(t *testing.T) {
	testcluster.RunSuite(t, "NodeAgentSet DaemonSet contract (real API server)")
}

// cluster is the suite's control plane: etcd, kube-apiserver, kube-scheduler and a kube-controller-manager with
// the garbage collectors, plus the NodeAgentSet manager in this process. Specs run one after another, each in its
// own namespace; the cluster is reset between them.
var cluster = testcluster.RegisterSuite(testcluster.Options{Scheduler: true, ControllerManager: true}, &controller.Options{})

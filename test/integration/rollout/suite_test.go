package rollout

import (
	"testing"

	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestRollouts(t *testing.T) {
	testcluster.RunSuite(t, "NodeAgentSet rollouts (real API server)")
}

// cluster is the suite's control plane: etcd, kube-apiserver and kube-scheduler (rollouts need no garbage
// collector), plus the NodeAgentSet manager in this process. Specs run one after another, each in its own
// namespace; the cluster is reset between them.
var cluster = testcluster.RegisterSuite(testcluster.Options{Scheduler: true}, &controller.Options{})

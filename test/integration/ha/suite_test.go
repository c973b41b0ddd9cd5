package ha

import (
	"testing"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

func TestHighAvailability(t *testing.T) {
	testcluster.RunSuite(t, "NodeAgentSet high availability (manager processes, real API server)")
}

// cluster is the suite's control plane: etcd, kube-apiserver and kube-scheduler. No manager runs in this process:
// the specs start manager processes from the cmd/ binary, built once for the suite (Cluster.ManagerBinary).
var cluster = testcluster.RegisterSuite(testcluster.Options{Scheduler: true}, nil)

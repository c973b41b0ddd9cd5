package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// The suite runs the commands in-process against a real API server with the NodeAgentSet CRD. No controller runs:
// the specs create sets and ControllerRevisions themselves and write status through the status subresource.

var (
	testEnv        *envtest.Environment
	k8sClient      client.Client
	kubeconfigPath string
)

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl nas")
}

var _ = BeforeSuite(func() {
	ctrllog.SetLogger(logr.Discard())
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// `make test` sets KUBEBUILDER_ASSETS; a plain `go test` finds the binaries `make cluster-binaries` linked.
	if assets, err := testcluster.AssetsDir(); err == nil {
		testEnv.BinaryAssetsDirectory = assets
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	Expect(corev1.AddToScheme(scheme)).To(Succeed())
	Expect(appsv1.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	// The commands connect the way a user's kubectl does: through a kubeconfig file.
	user, err := testEnv.AddUser(envtest.User{Name: "kubectl-nas-user", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	dir, err := os.MkdirTemp("", "kubectl-nas-suite-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(kubeconfigPath, kubeconfig, 0o600)).To(Succeed())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// syncBuffer is an output stream a spec can read while a command still writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kubectlNas runs one command line in namespace ns, as `kubectl nas -n NS ARGS...` would, and returns its output.
func kubectlNas(ctx context.Context, ns string, args ...string) (string, error) {
	out := &syncBuffer{}
	err := runInto(ctx, out, ns, args...)
	return out.String(), err
}

func runInto(ctx context.Context, out *syncBuffer, ns string, args ...string) error {
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: GinkgoWriter}
	full := append([]string{"--kubeconfig", kubeconfigPath, "-n", ns}, args...)
	return cli.Run(ctx, full, streams)
}

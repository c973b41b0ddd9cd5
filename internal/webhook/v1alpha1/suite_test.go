package v1alpha1_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
	webhookv1alpha1 "github.com/nodeagentset/nodeagentset/internal/webhook/v1alpha1"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// The suite runs the real admission path: a kube-apiserver with the NodeAgentSet CRD and the webhook configurations
// from config/webhook, calling the webhooks served in-process by a controller-runtime manager. No controller runs.

var (
	testEnv   *envtest.Environment
	k8sClient client.Client
	warnings  = &warningRecorder{}
)

func TestWebhooks(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "NodeAgentSet admission webhooks")
}

var _ = BeforeSuite(func() {
	ctrllog.SetLogger(logr.Discard())
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join("..", "..", "..", "config", "webhook")},
		},
	}
	// `make test` sets KUBEBUILDER_ASSETS; a plain `go test` finds the binaries `make cluster-binaries` linked.
	if assets, err := testcluster.AssetsDir(); err == nil {
		testEnv.BinaryAssetsDirectory = assets
	}
	// Starting also proves the CRD's CEL rules are within the apiserver's cost limits: it refuses the CRD otherwise.
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	Expect(corev1.AddToScheme(scheme)).To(Succeed())
	Expect(admissionregistrationv1.AddToScheme(scheme)).To(Succeed())
	Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())

	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	install := testEnv.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: install.LocalServingHost, Port: install.LocalServingPort, CertDir: install.LocalServingCertDir,
		}),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(webhookv1alpha1.SetupNodeAgentSetWebhookWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()

	// The client records the admission warnings the apiserver passes on, as kubectl prints them.
	clientConfig := rest.CopyConfig(cfg)
	clientConfig.WarningHandlerWithContext = warnings
	k8sClient, err = client.New(clientConfig, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("waiting for the webhook server to accept TLS connections")
	address := net.JoinHostPort(install.LocalServingHost, fmt.Sprint(install.LocalServingPort))
	Eventually(func() error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", address, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		return conn.Close()
	}).WithTimeout(time.Minute).Should(Succeed())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// warningRecorder keeps the warnings of the requests since the last Reset.
type warningRecorder struct {
	mu       sync.Mutex
	received []string
}

func (r *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received = append(r.received, text)
}

func (r *warningRecorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received = nil
}

func (r *warningRecorder) Received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.received)
}

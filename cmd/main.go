// Command manager runs the NodeAgentSet controller and, unless ENABLE_WEBHOOKS=false, its admission webhooks.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/controller"
	"github.com/nodeagentset/nodeagentset/internal/metricsauth"
	webhookv1alpha1 "github.com/nodeagentset/nodeagentset/internal/webhook/v1alpha1"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
}

// options are the manager's command-line settings.
type options struct {
	metricsAddr          string
	probeAddr            string
	pprofAddr            string
	secureMetrics        bool
	enableHTTP2          bool
	enableLeaderElection bool
	leaderElection       leaderElectionFlags
	webhookCertPath      string
	webhookCertName      string
	webhookCertKey       string
	webhookPort          int
	metricsCertPath      string
	metricsCertName      string
	metricsCertKey       string
	kubeAPIQPS           float64
	kubeAPIBurst         int
	workers              int
	burstReplicas        int
	passSpacing          time.Duration
	statusSpacing        time.Duration
}

func parseFlags() (options, zap.Options) {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", "0",
		"The address the metrics endpoint binds to. Use :8443 for HTTPS or :8080 for HTTP, or 0 to disable it.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "",
		"The address the pprof endpoints (/debug/pprof/) bind to, e.g. 127.0.0.1:8082. Empty (the default) disables them.")
	flag.BoolVar(&o.enableLeaderElection, "leader-elect", false,
		"Enable leader election, so that only one replica of the manager is active at a time.")
	// The lease timings under kube-controller-manager's names and defaults.
	flag.DurationVar(&o.leaderElection.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long non-leader replicas wait after the last renewal before taking the lease over (a Go duration, e.g. 15s).")
	flag.DurationVar(&o.leaderElection.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps retrying to renew the lease before it gives up leading; less than the lease duration.")
	flag.DurationVar(&o.leaderElection.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How long replicas wait between attempts to acquire or renew the lease.")
	flag.StringVar(&o.leaderElection.namespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease. Empty: the namespace the manager runs in (required when it runs "+
			"outside a cluster).")
	flag.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS behind authentication and authorization. Use --metrics-secure=false for HTTP.")
	flag.StringVar(&o.webhookCertPath, "webhook-cert-path", "", "The directory that contains the webhook certificate.")
	flag.StringVar(&o.webhookCertName, "webhook-cert-name", "tls.crt", "The name of the webhook certificate file.")
	flag.StringVar(&o.webhookCertKey, "webhook-cert-key", "tls.key", "The name of the webhook key file.")
	flag.IntVar(&o.webhookPort, "webhook-port", 9443, "The port the webhook server listens on.")
	flag.StringVar(&o.metricsCertPath, "metrics-cert-path", "", "The directory that contains the metrics server certificate.")
	flag.StringVar(&o.metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	flag.StringVar(&o.metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	flag.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics and webhook servers (off by default: HTTP/2 stream-reset CVEs).")
	// As kube-controller-manager: at thousands of nodes the client rate limit decides how fast a rollout can go.
	flag.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 20, "QPS to use while talking with the Kubernetes API server.")
	flag.IntVar(&o.kubeAPIBurst, "kube-api-burst", 30, "Burst to use while talking with the Kubernetes API server.")
	flag.IntVar(&o.workers, "concurrent-nodeagentset-syncs", 2, "How many NodeAgentSets are reconciled at once.")
	flag.IntVar(&o.burstReplicas, "burst-replicas", 250, "The most pod creates or deletes one reconcile issues.")
	flag.DurationVar(&o.passSpacing, "pod-event-pass-spacing", 250*time.Millisecond,
		"The least time between two passes of one set that its pods' changes ask for (the first after a quiet spell "+
			"runs at once); 0 passes the set on every pod change.")
	flag.DurationVar(&o.statusSpacing, "status-count-write-spacing", time.Second,
		"The least time between two status writes of one set that change only its pod counts, the message of a "+
			"condition other than a Stalled=True one, the node overrides' counts or the progress deadline's base "+
			"(by less than this spacing); any other change is written at once; 0 writes every change.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	return o, zapOpts
}

// leaderElectionFlags are the lease settings.
type leaderElectionFlags struct {
	leaseDuration, renewDeadline, retryPeriod time.Duration
	namespace                                 string
}

// validate rejects timings client-go's leader election would refuse or that cannot work: a leader must renew
// before others may take over.
func (f leaderElectionFlags) validate() error {
	switch {
	case f.leaseDuration <= 0 || f.renewDeadline <= 0 || f.retryPeriod <= 0:
		return fmt.Errorf("--leader-elect-lease-duration %s, --leader-elect-renew-deadline %s and --leader-elect-retry-period %s must all be positive",
			f.leaseDuration, f.renewDeadline, f.retryPeriod)
	case f.renewDeadline >= f.leaseDuration:
		return fmt.Errorf("--leader-elect-renew-deadline %s must be less than --leader-elect-lease-duration %s", f.renewDeadline, f.leaseDuration)
	case float64(f.renewDeadline) <= 1.2*float64(f.retryPeriod):
		return fmt.Errorf("--leader-elect-renew-deadline %s must be more than 1.2 times --leader-elect-retry-period %s", f.renewDeadline, f.retryPeriod)
	}
	return nil
}

func main() {
	o, zapOpts := parseFlags()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if err := o.leaderElection.validate(); err != nil {
		setupLog.Error(err, "invalid leader election flags")
		os.Exit(1)
	}

	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}

	webhookServerOptions := webhook.Options{TLSOpts: tlsOpts, Port: o.webhookPort}
	var webhookCertWatcher, metricsCertWatcher *certwatcher.CertWatcher
	if o.webhookCertPath != "" {
		var err error
		webhookCertWatcher, err = certwatcher.New(
			filepath.Join(o.webhookCertPath, o.webhookCertName), filepath.Join(o.webhookCertPath, o.webhookCertKey))
		if err != nil {
			setupLog.Error(err, "initializing webhook certificate watcher")
			os.Exit(1)
		}
		webhookServerOptions.TLSOpts = append(webhookServerOptions.TLSOpts, func(c *tls.Config) {
			c.GetCertificate = webhookCertWatcher.GetCertificate
		})
	}

	metricsServerOptions := metricsserver.Options{
		BindAddress:   o.metricsAddr,
		SecureServing: o.secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if o.secureMetrics {
		metricsServerOptions.FilterProvider = metricsauth.FilterProvider
	}
	if o.metricsCertPath != "" {
		var err error
		metricsCertWatcher, err = certwatcher.New(
			filepath.Join(o.metricsCertPath, o.metricsCertName), filepath.Join(o.metricsCertPath, o.metricsCertKey))
		if err != nil {
			setupLog.Error(err, "initializing metrics certificate watcher")
			os.Exit(1)
		}
		metricsServerOptions.TLSOpts = append(metricsServerOptions.TLSOpts, func(c *tls.Config) {
			c.GetCertificate = metricsCertWatcher.GetCertificate
		})
	}

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS = float32(o.kubeAPIQPS)
	restConfig.Burst = o.kubeAPIBurst
	// As kube-controller-manager's clients: no gzip on the wire. The manager runs next to the API server, where
	// compressing every watch event costs the API server CPU to compress and the manager CPU to inflate (5% of the
	// manager's CPU in a 1000-node bench, docs/benchmarks.md) and saves bandwidth nobody is short of. The rest
	// config's ContentType stays empty, so controller-runtime speaks protobuf for built-in kinds.
	restConfig.DisableCompression = true

	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsServerOptions,
		WebhookServer:           webhook.NewServer(webhookServerOptions),
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.enableLeaderElection,
		LeaderElectionID:        "nodeagentset.nodeagentset.io",
		LeaderElectionNamespace: o.leaderElection.namespace,
		LeaseDuration:           &o.leaderElection.leaseDuration,
		RenewDeadline:           &o.leaderElection.renewDeadline,
		RetryPeriod:             &o.leaderElection.retryPeriod,
		// On SIGTERM the lease is released as the manager stops, so the next replica takes over within a retry
		// period instead of waiting out the lease. Safe because mgr.Start returns only after the reconcilers have
		// stopped, and the process exits right after.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controller.CacheOptions(),
	})
	if err != nil {
		setupLog.Error(err, "creating manager")
		os.Exit(1)
	}

	if err := controller.NewNodeAgentSetReconciler(mgr, controller.Options{
		Workers:       o.workers,
		BurstReplicas: o.burstReplicas,
		PassSpacing:   spacingOption(o.passSpacing),
		StatusSpacing: spacingOption(o.statusSpacing),
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "setting up controller", "controller", "NodeAgentSet")
		os.Exit(1)
	}
	if os.Getenv("ENABLE_WEBHOOKS") != "false" {
		if err := webhookv1alpha1.SetupNodeAgentSetWebhookWithManager(mgr); err != nil {
			setupLog.Error(err, "setting up webhook", "webhook", "NodeAgentSet")
			os.Exit(1)
		}
	}

	for _, w := range []*certwatcher.CertWatcher{webhookCertWatcher, metricsCertWatcher} {
		if w == nil {
			continue
		}
		if err := mgr.Add(w); err != nil {
			setupLog.Error(err, "adding certificate watcher to manager")
			os.Exit(1)
		}
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "setting up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "setting up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "running manager")
		os.Exit(1)
	}
}

// spacingOption maps the --pod-event-pass-spacing and --status-count-write-spacing flags onto controller.Options'
// PassSpacing and StatusSpacing, whose zero values mean the defaults: a flag of 0 (no spacing) becomes a negative
// option.
func spacingOption(flagValue time.Duration) time.Duration {
	if flagValue <= 0 {
		return -1
	}
	return flagValue
}

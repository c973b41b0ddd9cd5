package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Options says which control-plane components a suite needs besides etcd and kube-apiserver.
type Options struct {
	// Scheduler starts a kube-scheduler, so that the set's pods, pinned to a node by required node affinity, are
	// bound the way a cluster binds them (taints, unschedulable nodes and resources are honoured).
	Scheduler bool

	// ControllerManager starts a kube-controller-manager running only the garbagecollector and podgc controllers:
	// cascading deletes (foreground, background, orphan) and the removal of pods bound to deleted nodes.
	ControllerManager bool

	// DaemonSetController adds the upstream DaemonSet controller to the controller-manager (and starts it when
	// ControllerManager is not set), for specs that run real DaemonSets.
	DaemonSetController bool

	// CRDDirectories hold the CRDs to install. Defaults to config/crd/bases of this repository.
	CRDDirectories []string

	// Log receives the harness's progress messages. nil discards them.
	Log io.Writer
}

// Cluster is a running control plane. Create it with Start and always Stop it.
type Cluster struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config
	// Scheme knows the built-in types and the NodeAgentSet API.
	Scheme *runtime.Scheme
	// Client talks to the API server directly (no cache), so tests read what the server holds.
	Client client.Client
	// Clientset is the typed client-go client for the same server.
	Clientset kubernetes.Interface

	env        *envtest.Environment
	dir        string
	log        io.Writer
	logFiles   []namedFile
	components []*component
	watchdog   *watchdog

	mu       sync.Mutex
	manager  *runningManager
	kubelets []*Kubelet
	stopped  bool
	// apiserver is the kube-apiserver StartAPIServer started again, nil while envtest's own runs; apiserverArgs is
	// its command line while StopAPIServer has it stopped.
	apiserver     *restartedAPIServer
	apiserverArgs []string

	buildMu       sync.Mutex
	managerBinary string
}

// namedFile is a log file and the component that writes it.
type namedFile struct {
	name string
	path string
	file *os.File
}

// NewScheme is the scheme of the suites and of the in-process manager: client-go's types plus NodeAgentSet.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	return scheme
}

// controlPlaneTimeout bounds each component's start and stop; the machine may be busy with other suites.
const controlPlaneTimeout = 2 * time.Minute

// Start starts etcd and kube-apiserver, installs the CRDs, and starts the components that opts asks for. On error
// everything already started is stopped again.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	crdDirs := opts.CRDDirectories
	if len(crdDirs) == 0 {
		crdDirs = []string{filepath.Join(root, "config", "crd", "bases")}
	}
	dir, err := os.MkdirTemp("", "nas-testcluster-")
	if err != nil {
		return nil, fmt.Errorf("creating the cluster's temporary directory: %w", err)
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	c = &Cluster{dir: dir, log: logw, Scheme: NewScheme()}
	defer func() {
		if err != nil {
			c.DumpLogs(logw, 60)
			_ = c.Stop()
			c = nil
		}
	}()

	etcdLog, err := c.openLog("etcd")
	if err != nil {
		return c, err
	}
	apiserverLog, err := c.openLog("kube-apiserver")
	if err != nil {
		return c, err
	}

	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        crdDirs,
		ErrorIfCRDPathMissing:    true,
		Scheme:                   c.Scheme,
		ControlPlaneStartTimeout: controlPlaneTimeout,
		ControlPlaneStopTimeout:  controlPlaneTimeout,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog}
	// The suites create and delete a lot of short-lived objects; durability across power loss is no concern here.
	env.ControlPlane.Etcd.Configure().Set("unsafe-no-fsync", "true")
	apiserver := env.ControlPlane.GetAPIServer()
	apiserver.Out, apiserver.Err = apiserverLog, apiserverLog
	// As in the upstream integration tests: without a service-account controller the ServiceAccount plugin would
	// reject every pod, and TaintNodesByCondition would give each new node a not-ready taint that no node
	// lifecycle controller ever removes.
	apiserver.Configure().Set("disable-admission-plugins", "ServiceAccount", "TaintNodesByCondition")

	c.env = env
	fmt.Fprintf(logw, "testcluster: starting etcd and kube-apiserver from %s (logs in %s)\n", assets, dir)
	cfg, err := env.Start()
	if err != nil {
		return c, fmt.Errorf("starting etcd and kube-apiserver from %s: %w", assets, err)
	}
	c.Config = cfg
	if c.Client, err = client.New(cfg, client.Options{Scheme: c.Scheme}); err != nil {
		return c, fmt.Errorf("creating the test client: %w", err)
	}
	if c.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return c, fmt.Errorf("creating the test clientset: %w", err)
	}

	if opts.Scheduler {
		if err := c.startComponent(ctx, "kube-scheduler", assets, schedulerArgs); err != nil {
			return c, err
		}
	}
	switch {
	case opts.DaemonSetController:
		if err := c.startComponent(ctx, "kube-controller-manager", assets, daemonSetControllerManagerArgs); err != nil {
			return c, err
		}
	case opts.ControllerManager:
		if err := c.startComponent(ctx, "kube-controller-manager", assets, controllerManagerArgs); err != nil {
			return c, err
		}
	}
	if c.watchdog, err = startWatchdog(c.components); err != nil {
		return c, err
	}
	return c, nil
}

// Dir is the cluster's temporary directory: component logs and kubeconfigs.
func (c *Cluster) Dir() string { return c.dir }

// KubeconfigPath writes an admin kubeconfig for the cluster (for kubectl and plugins under test) and returns its
// path.
func (c *Cluster) KubeconfigPath() (string, error) {
	return c.writeKubeconfig("admin-kubectl")
}

func (c *Cluster) openLog(name string) (*os.File, error) {
	path := filepath.Join(c.dir, name+".log")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating log file for %s: %w", name, err)
	}
	c.logFiles = append(c.logFiles, namedFile{name: name, path: path, file: f})
	return f, nil
}

// writeKubeconfig provisions a system:masters user named after the component and writes its kubeconfig.
func (c *Cluster) writeKubeconfig(user string) (string, error) {
	u, err := c.env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("provisioning user %q: %w", user, err)
	}
	raw, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("rendering kubeconfig for %q: %w", user, err)
	}
	path := filepath.Join(c.dir, user+".kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return "", fmt.Errorf("writing kubeconfig for %q: %w", user, err)
	}
	return path, nil
}

// Stop stops the manager, the fake kubelets, the components and the control plane, and removes the temporary
// directory unless NAS_TEST_KEEP_LOGS is set. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	kubelets := c.kubelets
	c.kubelets = nil
	c.mu.Unlock()

	var errs []error
	if err := c.StopManager(); err != nil {
		errs = append(errs, err)
	}
	for _, k := range kubelets {
		k.Stop()
	}
	// Stop the components before the API server so they do not spin on a vanished server.
	for i := len(c.components) - 1; i >= 0; i-- {
		if err := c.components[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	c.stopRestartedAPIServer()
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping etcd and kube-apiserver: %w", err))
		}
	}
	if c.watchdog != nil {
		c.watchdog.stop()
	}
	for _, f := range c.logFiles {
		_ = f.file.Close()
	}
	if os.Getenv("NAS_TEST_KEEP_LOGS") != "" {
		fmt.Fprintf(c.log, "testcluster: keeping logs in %s\n", c.dir)
	} else if c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DumpLogs writes the last maxLines lines of every component log to w, for a failed suite.
func (c *Cluster) DumpLogs(w io.Writer, maxLines int) {
	files := append([]namedFile(nil), c.logFiles...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].name < files[j].name })
	for _, f := range files {
		lines, err := tailLines(f.path, maxLines)
		if err != nil {
			fmt.Fprintf(w, "==== %s: %v\n", f.name, err)
			continue
		}
		fmt.Fprintf(w, "==== last %d lines of %s (%s)\n", len(lines), f.name, f.path)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	sigsyaml "sigs.k8s.io/yaml"
)

// binaries are the programs the bench runs.
type binaries struct {
	etcd, apiserver, scheduler, controllerManager, kwok, manager, certgen string
}

// findBinaries asks hack/cluster-binaries.sh (which builds on a cache miss) where the components are.
func findBinaries(ctx context.Context, root, manager, certgen string) (binaries, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "cluster-binaries.sh"), "bench")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return binaries{}, fmt.Errorf("hack/cluster-binaries.sh bench: %w", err)
	}
	dirs := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			dirs[k] = v
		}
	}
	b := binaries{
		etcd:              filepath.Join(dirs["etcd"], "etcd"),
		apiserver:         filepath.Join(dirs["kubernetes"], "kube-apiserver"),
		scheduler:         filepath.Join(dirs["kubernetes"], "kube-scheduler"),
		controllerManager: filepath.Join(dirs["kubernetes"], "kube-controller-manager"),
		kwok:              filepath.Join(dirs["kwok"], "kwok"),
		manager:           manager,
		certgen:           certgen,
	}
	for _, p := range []string{b.etcd, b.apiserver, b.scheduler, b.controllerManager, b.kwok, b.manager, b.certgen} {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return b, fmt.Errorf("binary %s not found (make bench builds it)", p)
		}
	}
	return b, nil
}

// ports are the bench cluster's loopback ports: --port-base plus the offsets hack/local/common.sh uses.
type ports struct {
	etcd, etcdPeer, apiserver, controllerManager, scheduler, gc, managerHealth, managerPprof, managerMetrics int
}

func portsFrom(base int) ports {
	return ports{
		etcd: base + 379, etcdPeer: base + 380, apiserver: base + 443, controllerManager: base + 257,
		scheduler: base + 259, gc: base + 258, managerHealth: base + 81, managerPprof: base + 82, managerMetrics: base + 83,
	}
}

// cluster is the running control plane and the simulated nodes.
type cluster struct {
	cfg     config
	bins    binaries
	ports   ports
	dir     string
	logDir  string
	kubecfg string // admin kubeconfig
	rest    *rest.Config
	kube    kubernetes.Interface
	dyn     dynamic.Interface

	mu    sync.Mutex
	procs []*process // in start order
	fixed map[string]*process
}

func (c *cluster) start(name, bin string, args, env []string) (*process, error) {
	p, err := startProcess(c.logDir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// stopAll stops every process the bench started, last started first.
func (c *cluster) stopAll() {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(15 * time.Second)
	}
}

// startCluster brings up etcd, kube-apiserver, kube-scheduler, the garbage collector and kwok, installs the CRDs and
// registers the nodes. On error the caller's stopAll cleans up.
func (c *cluster) startControlPlane(ctx context.Context) error {
	pki := filepath.Join(c.dir, "pki")
	kubeconfigs := filepath.Join(c.dir, "kubeconfigs")
	server := fmt.Sprintf("https://127.0.0.1:%d", c.ports.apiserver)
	if out, err := exec.CommandContext(ctx, c.bins.certgen, "-pki-dir", pki, "-kubeconfig-dir", kubeconfigs,
		"-server", server).CombinedOutput(); err != nil {
		return fmt.Errorf("certgen: %v: %s", err, out)
	}
	c.kubecfg = filepath.Join(kubeconfigs, "admin.kubeconfig")
	c.fixed = map[string]*process{}

	etcd, err := c.start("etcd", c.bins.etcd, []string{
		"--name=bench", "--data-dir=" + filepath.Join(c.dir, "etcd"),
		fmt.Sprintf("--listen-client-urls=http://127.0.0.1:%d", c.ports.etcd),
		fmt.Sprintf("--advertise-client-urls=http://127.0.0.1:%d", c.ports.etcd),
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", c.ports.etcdPeer),
		fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", c.ports.etcdPeer),
		fmt.Sprintf("--initial-cluster=bench=http://127.0.0.1:%d", c.ports.etcdPeer),
		"--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=8589934592",
	}, nil)
	if err != nil {
		return err
	}
	c.fixed["etcd"] = etcd
	if err := waitHealthy(ctx, etcd, fmt.Sprintf("http://127.0.0.1:%d/health", c.ports.etcd), 60*time.Second); err != nil {
		return err
	}

	apiserver, err := c.start("kube-apiserver", c.bins.apiserver, []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.ports.etcd),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.apiserver),
		"--tls-cert-file=" + filepath.Join(pki, "apiserver.crt"), "--tls-private-key-file=" + filepath.Join(pki, "apiserver.key"),
		"--client-ca-file=" + filepath.Join(pki, "ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=Node,RBAC",
		// As the integration suites: no service-account controller gives pods their account, and no node lifecycle
		// controller lifts the not-ready taint from new nodes. Neither is what is measured.
		"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
		"--allow-privileged=true", "--endpoint-reconciler-type=none",
		// Profiling only when the run collects profiles: its handlers are idle otherwise, but the measured runs
		// keep the server as it was when the committed figures were taken.
		fmt.Sprintf("--profiling=%t", c.cfg.profileDir != ""),
	}, nil)
	if err != nil {
		return err
	}
	c.fixed["kube-apiserver"] = apiserver
	if err := waitHealthy(ctx, apiserver, server+"/readyz", 120*time.Second); err != nil {
		return err
	}

	c.rest, err = clientcmd.BuildConfigFromFlags("", c.kubecfg)
	if err != nil {
		return err
	}
	// The bench's own client: fast enough that registering nodes and creating sets never waits on it.
	c.rest.QPS, c.rest.Burst = 2000, 4000
	if c.kube, err = kubernetes.NewForConfig(c.rest); err != nil {
		return err
	}
	if c.dyn, err = dynamic.NewForConfig(c.rest); err != nil {
		return err
	}

	scheduler, err := c.start("kube-scheduler", c.bins.scheduler, []string{
		"--kubeconfig=" + filepath.Join(kubeconfigs, "kube-scheduler.kubeconfig"),
		"--leader-elect=false", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.scheduler),
		"--cert-dir=" + filepath.Join(c.dir, "kube-scheduler"),
		fmt.Sprintf("--kube-api-qps=%g", c.cfg.schedulerQPS), fmt.Sprintf("--kube-api-burst=%d", int(c.cfg.schedulerQPS)*2),
	}, nil)
	if err != nil {
		return err
	}
	c.fixed["kube-scheduler"] = scheduler
	if err := waitHealthy(ctx, scheduler, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.scheduler), 120*time.Second); err != nil {
		return err
	}
	if err := c.installCRDs(ctx); err != nil {
		return err
	}
	// The garbage collector removes a deleted set's pods, for both controllers alike; in its own process so that
	// its CPU is not counted as the DaemonSet controller's. It starts after the CRDs are in, so its first discovery
	// already covers NodeAgentSets (it would otherwise only notice them at its next discovery resync).
	gc, err := c.start("garbage-collector", c.bins.controllerManager, []string{
		"--kubeconfig=" + c.kubecfg, "--controllers=garbagecollector", "--use-service-account-credentials=false",
		"--leader-elect=false", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.gc),
		"--cert-dir=" + filepath.Join(c.dir, "garbage-collector"),
		fmt.Sprintf("--kube-api-qps=%g", c.cfg.qps), fmt.Sprintf("--kube-api-burst=%d", c.cfg.burst),
	}, nil)
	if err != nil {
		return err
	}
	c.fixed["garbage-collector"] = gc
	if err := waitHealthy(ctx, gc, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.gc), 120*time.Second); err != nil {
		return err
	}
	return nil
}

// installCRDs creates config/crd/bases and waits until each is established.
func (c *cluster) installCRDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(c.cfg.root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in config/crd/bases: %v", err)
	}
	crdGVR := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		obj := map[string]any{}
		if err := sigsyaml.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := toUnstructured(obj)
		if _, err := c.dyn.Resource(crdGVR).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating CRD from %s: %w", f, err)
		}
		name := u.GetName()
		if err := waitFor(ctx, 60*time.Second, func() (bool, error) {
			got, err := c.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, &crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			return fmt.Errorf("CRD %s not established: %w", name, err)
		}
	}
	return nil
}

// waitFor retries check every 100ms; only for one-off set-up steps that offer nothing cheaper to watch.
func waitFor(ctx context.Context, timeout time.Duration, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := check()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kwokOptions is kwok's KwokConfiguration with its documented defaults, the pod stage parallelism left to fill in.
const kwokOptions = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: %d
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
  enableDebuggingHandlers: true
  enableProfilingHandler: true
  enableContentionProfiling: false
`

// startNodes starts kwok with the project's stages, registers the nodes from hack/local/nodes/worker.yaml and
// waits (on a watch) until all are Ready.
func (c *cluster) startNodes(ctx context.Context) error {
	all, err := filepath.Glob(filepath.Join(c.cfg.root, "hack", "local", "stages", "*.yaml"))
	if err != nil || len(all) == 0 {
		return fmt.Errorf("no kwok stages in hack/local/stages: %v", err)
	}
	var stages []string
	for _, s := range all {
		// The node status heartbeat first fires 4 to 9 minutes after a node is Ready and then every 4 to 9 minutes:
		// it would load only the turns that happen to run after the first few minutes (at 3000 nodes, thousands of
		// node status patches, each one a watch event for every controller), so the bench leaves it out. Nodes
		// stay alive through their leases, which kwok renews throughout, for every turn alike.
		//
		// The local cluster's in-place restart stage evaluates a jq expression over every pod event; the bench keeps
		// its own stand-in (hack/bench/inplace-stage.yaml), which selects on fixed images, so that kwok's cost and
		// the figures stay comparable with the earlier rounds.
		switch filepath.Base(s) {
		case "node-heartbeat.yaml", "pod-restart-changed.yaml":
		default:
			stages = append(stages, s)
		}
	}
	stages = append(stages, filepath.Join(c.cfg.root, "hack", "bench", "inplace-stage.yaml"))
	kwokDir := filepath.Join(c.dir, "kwok")
	if err := os.MkdirAll(kwokDir, 0o755); err != nil {
		return err
	}
	// kwok plays pod stages (starts, deletes, in-place restarts) with --kwok-pod-parallelism workers, each waiting
	// for its API call; docs/benchmarks.md has what raising it from kwok's 4 changed. Its options come in a
	// KwokConfiguration among the --config files; kwok does not default a configuration it reads, so the file gives
	// kwok's own defaults for the rest (the flags below set the node selection, the CIDR and the lease duration).
	options := filepath.Join(kwokDir, "options.yaml")
	if err := os.WriteFile(options, []byte(fmt.Sprintf(kwokOptions, c.cfg.kwokPodParallelism)), 0o644); err != nil {
		return err
	}
	stages = append(stages, options)
	kwok, err := c.start("kwok", c.bins.kwok, []string{
		"--kubeconfig=" + filepath.Join(c.dir, "kubeconfigs", "kwok.kubeconfig"),
		"--config=" + strings.Join(stages, ","),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-lease-duration-seconds=40", "--cidr=10.0.0.0/8",
	}, []string{"KWOK_WORKDIR=" + kwokDir})
	if err != nil {
		return err
	}
	c.fixed["kwok"] = kwok

	template, err := os.ReadFile(filepath.Join(c.cfg.root, "hack", "local", "nodes", "worker.yaml"))
	if err != nil {
		return err
	}
	zones := []string{"zone-a", "zone-b", "zone-c"}
	nodes := make([]*corev1.Node, c.cfg.nodes)
	for i := range nodes {
		name := nodeName(i)
		ip := fmt.Sprintf("10.%d.%d.%d", 64+i/65536, (i/256)%256, i%256)
		raw := strings.NewReplacer("__NAME__", name, "__ZONE__", zones[i%3], "__IP__", ip).Replace(string(template))
		n := &corev1.Node{}
		if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(raw)), 4096).Decode(n); err != nil {
			return fmt.Errorf("hack/local/nodes/worker.yaml: %w", err)
		}
		nodes[i] = n
	}

	factory := informers.NewSharedInformerFactory(c.kube, 0)
	nodeInformer := factory.Core().V1().Nodes().Informer()
	var ready atomic.Int64
	readyNodes := sync.Map{}
	done := make(chan struct{})
	var once sync.Once
	track := func(obj any) {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		if nodeReady(n) {
			if _, loaded := readyNodes.LoadOrStore(n.Name, true); !loaded && ready.Add(1) == int64(c.cfg.nodes) {
				once.Do(func() { close(done) })
			}
		}
	}
	if _, err := nodeInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: track, UpdateFunc: func(_, n any) { track(n) },
	}); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)

	// The pod lists before any node exists (the scheduler's, the garbage collector's, kwok's own informer) are not
	// kwok's per-node lists that awaitKwokNodeSyncs counts.
	before, err := c.requestCounts(ctx)
	if err != nil {
		return fmt.Errorf("reading kube-apiserver metrics: %w", err)
	}
	start := time.Now()
	if err := parallel(ctx, len(nodes), 32, func(i int) error {
		_, err := c.kube.CoreV1().Nodes().Create(ctx, nodes[i], metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("registering nodes: %w", err)
	}
	logf("registered %d nodes in %s; waiting for kwok to make them Ready", len(nodes), since(start))
	select {
	case <-done:
	case <-kwok.exited:
		return fmt.Errorf("kwok exited: %v\n%s", kwok.err, kwok.tail(20))
	case <-ctx.Done():
		return fmt.Errorf("waiting for %d nodes to be Ready (%d are): %w", c.cfg.nodes, ready.Load(), ctx.Err())
	}
	logf("%d nodes Ready after %s", c.cfg.nodes, since(start))
	return c.awaitKwokNodeSyncs(ctx, kwok, before["LIST pods"])
}

// awaitKwokNodeSyncs waits until kwok has listed the pods of every node it manages. kwok lists a node's pods (LIST
// pods, field selector spec.nodeName) once it holds the node's lease, on a single worker that hands each pod found to
// its pod stages, and plays no stage of a node whose lease it does not hold yet. Started into a run, those lists
// trickled through the whole first turn: at 3000 nodes 731 in the create, 1867 in the rollout and 229 in the delete,
// at 5000 nodes 1974 and 2810, and none in later turns, so the first turn's API server paid for requests no other
// turn had. How long the wait takes is how fast kwok takes the leases (seconds at 1000 nodes, minutes at 5000). The
// API server's request counter is the only place the lists show, so it is read every quarter second until it
// reaches one list per node beyond the listsBefore counted before the nodes were registered. If it stops growing
// short of that for 30 s (another kwok release listing otherwise), the run goes on and says so.
func (c *cluster) awaitKwokNodeSyncs(ctx context.Context, kwok *process, listsBefore float64) error {
	const (
		poll  = 250 * time.Millisecond
		stuck = 30 * time.Second
	)
	start := time.Now()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	last, lastGrew := -1.0, time.Now()
	for {
		counts, err := c.requestCounts(ctx)
		if err != nil {
			return fmt.Errorf("reading kube-apiserver metrics: %w", err)
		}
		lists := counts["LIST pods"] - listsBefore
		if lists >= float64(c.cfg.nodes) {
			logf("kwok listed the pods of its %d nodes after %s (%.0f pod lists)", c.cfg.nodes, since(start), lists)
			return nil
		}
		if lists > last {
			last, lastGrew = lists, time.Now()
		} else if time.Since(lastGrew) > stuck {
			logf("warning: kwok's pod lists stopped at %.0f of %d nodes; the first turn may carry the rest", lists, c.cfg.nodes)
			return nil
		}
		select {
		case <-ticker.C:
		case <-kwok.exited:
			return fmt.Errorf("kwok exited: %v\n%s", kwok.err, kwok.tail(20))
		case <-ctx.Done():
			return fmt.Errorf("waiting for kwok's pod lists (%.0f of %d nodes): %w", lists, c.cfg.nodes, ctx.Err())
		}
	}
}

func nodeName(i int) string { return "bench-node-" + strconv.Itoa(i) }

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// parallel runs fn(0..n-1) on width goroutines and returns the first error.
func parallel(ctx context.Context, n, width int, fn func(int) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for w := 0; w < width; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// readLines reads a small text file (for /proc/loadavg and /proc/cpuinfo).
func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// config is the bench's command line.
type config struct {
	root               string
	dir                string
	nodes              int
	sets               int
	qps                float64
	burst              int
	workers            int
	repeats            int
	controllers        []string
	portBase           int
	timeout            time.Duration
	schedulerQPS       float64
	kwokPodParallelism int
	out                string
	profileDir         string
	idle               time.Duration
	writeCosts         int
	keep               bool
	manager            string
	certgen            string
	updatePolicy       string
	managerArgs        []string
}

func parseFlags() (config, error) {
	var c config
	var controllers string
	flag.StringVar(&c.root, "root", ".", "the repository checkout (for hack/, config/crd/bases)")
	flag.StringVar(&c.dir, "dir", ".bench", "state directory (certificates, etcd data, logs); removed at the end unless --keep")
	flag.IntVar(&c.nodes, "nodes", 1000, "simulated nodes")
	flag.IntVar(&c.sets, "sets", 1, "sets each controller runs at once, every one on every node")
	flag.Float64Var(&c.qps, "qps", 100, "client QPS of both controllers (and the garbage collector)")
	flag.IntVar(&c.burst, "burst", 100, "client burst of both controllers (and the garbage collector)")
	flag.IntVar(&c.workers, "workers", 2, "concurrent set syncs of both controllers (--concurrent-daemonset-syncs, --concurrent-nodeagentset-syncs)")
	flag.IntVar(&c.repeats, "repeats", 2, "turns per controller; the order alternates between repeats")
	flag.StringVar(&controllers, "controllers", upstream+","+nodeAgentSet, "controllers to measure, in the first repeat's order")
	flag.IntVar(&c.portBase, "port-base", 27000, "loopback ports are this plus fixed offsets (as hack/run-local.sh); the default keeps them below the kernel's ephemeral range (32768 up), where an outgoing connection can hold one")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "bound on the whole run; on expiry everything is stopped")
	flag.Float64Var(&c.schedulerQPS, "scheduler-qps", 1000, "kube-scheduler client QPS (burst twice that), high so binding is not what is measured")
	flag.IntVar(&c.kwokPodParallelism, "kwok-pod-parallelism", 4, "pod stages (starts, deletes, in-place restarts) kwok plays at once, its podPlayStageParallelism")
	flag.DurationVar(&c.idle, "idle", 0, "if set, the control plane's CPU with its nodes Ready and no controller is measured for this long before the first turn")
	flag.IntVar(&c.writeCosts, "write-costs", 0, "if set, before the nodes are registered this many pods are created, bound, given a status, patched in place and deleted, as many leases renewed and set statuses written, three times over, and the API server's CPU per write of each kind is reported")
	flag.StringVar(&c.out, "out", "bench.json", "JSON results file")
	flag.StringVar(&c.profileDir, "profile-dir", "", "if set, CPU (10s chunks) and heap profiles of both controllers are written here")
	flag.BoolVar(&c.keep, "keep", false, "keep the state directory (logs) after the run")
	flag.StringVar(&c.updatePolicy, "pod-update-policy", string(v1alpha1.RecreatePodUpdatePolicy),
		"the NodeAgentSet's podUpdatePolicy (Recreate or InPlaceIfPossible); the DaemonSet always recreates")
	flag.StringVar(&c.manager, "manager", "bin/manager", "the NodeAgentSet manager binary")
	flag.Func("manager-arg", "an extra flag for the manager, e.g. --manager-arg=--pod-event-pass-spacing=250ms (repeatable)",
		func(v string) error { c.managerArgs = append(c.managerArgs, v); return nil })
	flag.StringVar(&c.certgen, "certgen", "bin/local/certgen", "the hack/local/certgen binary")
	flag.Parse()
	for _, name := range strings.Split(controllers, ",") {
		if name != upstream && name != nodeAgentSet {
			return c, fmt.Errorf("--controllers: unknown controller %q (want %s, %s)", name, upstream, nodeAgentSet)
		}
		c.controllers = append(c.controllers, name)
	}
	switch {
	case c.updatePolicy != string(v1alpha1.RecreatePodUpdatePolicy) && c.updatePolicy != string(v1alpha1.InPlaceIfPossiblePodUpdatePolicy):
		return c, fmt.Errorf("--pod-update-policy: unknown value %q (want %s or %s)", c.updatePolicy,
			v1alpha1.RecreatePodUpdatePolicy, v1alpha1.InPlaceIfPossiblePodUpdatePolicy)
	case c.nodes < 1:
		return c, fmt.Errorf("--nodes must be at least 1, got %d", c.nodes)
	case c.sets < 1:
		return c, fmt.Errorf("--sets must be at least 1, got %d", c.sets)
	case c.repeats < 1:
		return c, fmt.Errorf("--repeats must be at least 1, got %d", c.repeats)
	case c.kwokPodParallelism < 1:
		return c, fmt.Errorf("--kwok-pod-parallelism must be at least 1, got %d", c.kwokPodParallelism)
	case c.qps <= 0 || c.burst < 1:
		return c, fmt.Errorf("--qps and --burst must be positive, got %g and %d", c.qps, c.burst)
	}
	var err error
	for _, p := range []*string{&c.root, &c.dir, &c.manager, &c.certgen} {
		if *p, err = filepath.Abs(*p); err != nil {
			return c, err
		}
	}
	if c.profileDir != "" {
		if c.profileDir, err = filepath.Abs(c.profileDir); err != nil {
			return c, err
		}
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	if _, err := os.Stat(cfg.dir); err == nil {
		if _, err := os.Stat(filepath.Join(cfg.dir, ".bench-state")); err != nil {
			return fmt.Errorf("--dir %s exists and was not made by the bench; not touching it", cfg.dir)
		}
		if err := os.RemoveAll(cfg.dir); err != nil {
			return err
		}
	}
	logDir := filepath.Join(cfg.dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.dir, ".bench-state"), nil, 0o644); err != nil {
		return err
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}

	bins, err := findBinaries(ctx, cfg.root, cfg.manager, cfg.certgen)
	if err != nil {
		return err
	}
	c := &cluster{cfg: cfg, bins: bins, ports: portsFrom(cfg.portBase), dir: cfg.dir, logDir: logDir}
	defer func() {
		c.stopAll()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: logs are in %s\n", logDir)
		} else if !cfg.keep {
			_ = os.RemoveAll(cfg.dir)
		}
	}()

	started := time.Now()
	logf("starting the control plane and %d nodes in %s", cfg.nodes, cfg.dir)
	if err := c.startControlPlane(ctx); err != nil {
		return err
	}
	var writeCosts []writeCost
	if cfg.writeCosts > 0 {
		// Before the nodes: with no lease to renew and no kwok, the writes are all the control plane does.
		if writeCosts, err = c.measureWriteCosts(ctx, cfg.writeCosts); err != nil {
			return err
		}
	}
	if err := c.startNodes(ctx); err != nil {
		return err
	}
	res := results{
		Config: configJSON{
			Nodes: cfg.nodes, Sets: cfg.sets, QPS: cfg.qps, Burst: cfg.burst, Workers: cfg.workers,
			Repeats: cfg.repeats, SchedulerQPS: cfg.schedulerQPS, KwokPodParallelism: cfg.kwokPodParallelism, PodUpdatePolicy: cfg.updatePolicy,
			ManagerArgs: cfg.managerArgs,
		},
		Machine: machine(),
		Started: started.UTC().Format(time.RFC3339),
	}
	if cfg.idle > 0 {
		if res.Idle, err = c.measureIdle(ctx, cfg.idle); err != nil {
			return err
		}
	}
	res.WriteCosts = writeCosts
	for rep := 0; rep < cfg.repeats; rep++ {
		order := append([]string(nil), cfg.controllers...)
		if rep%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, ctl := range order {
			t, err := c.runTurn(ctx, ctl, rep)
			if err != nil {
				return fmt.Errorf("%s, repeat %d: %w", ctl, rep+1, err)
			}
			res.Turns = append(res.Turns, t)
		}
	}
	res.LoadAfter = loadavg()
	lessLeaseRenewals(res.Turns, res.WriteCosts)
	res.Summary = summarize(res.Turns)
	printTable(os.Stdout, res)
	if err := res.write(cfg.out); err != nil {
		return err
	}
	logf("done in %s; results in %s", since(started), cfg.out)
	return nil
}

// runTurn starts one controller, runs the three phases with it and stops it.
func (c *cluster) runTurn(ctx context.Context, ctl string, rep int) (turnResult, error) {
	turn := fmt.Sprintf("%s-%d", ctl, rep+1)
	logf("turn %s: starting the controller", turn)
	loadBefore := loadavg()
	proc, err := c.startController(ctx, ctl, turn)
	if err != nil {
		return turnResult{}, err
	}
	defer proc.stop(15 * time.Second)
	pods, err := c.startPodTracker(ctx, turn)
	if err != nil {
		return turnResult{}, err
	}
	defer close(pods.stop)
	sets, err := c.startSetTracker(ctx, ctl, turn)
	if err != nil {
		return turnResult{}, err
	}
	defer close(sets.stop)

	var profiles sync.WaitGroup
	profileCtx, stopProfiles := context.WithCancel(ctx)
	defer stopProfiles()
	if c.cfg.profileDir != "" {
		profiles.Add(1)
		go func() {
			defer profiles.Done()
			c.collectCPUProfiles(profileCtx, ctl, turn)
		}()
		profiles.Add(1)
		go func() {
			defer profiles.Done()
			c.collectCPUProfiles(profileCtx, "kube-apiserver", turn)
		}()
	}

	result := turnResult{Controller: ctl, Repeat: rep + 1, LoadBefore: loadBefore}
	startup, err := readUsage(proc.pid())
	if err != nil {
		return result, err
	}
	result.StartupCPUSeconds = startup.CPU.Seconds()
	names := setNames(turn, c.cfg.sets)
	budget, err := rollingBudget(c.cfg.nodes)
	if err != nil {
		return result, err
	}
	target := c.cfg.sets * c.cfg.nodes
	gvr := gvrFor(ctl)

	phases := []struct {
		name   string
		want   string
		act    func() error
		done   func(goodKeys, stale, total int) bool
		settle bool
		// budget is how many of the phase's pods may be in flight at a time, for the slot idle time: a rolling
		// update's per set; 0 for no such limit.
		budget int
	}{
		{"create", imageV1, func() error {
			return parallel(ctx, len(names), 8, func(i int) error {
				obj, err := newSet(ctl, turn, names[i], v1alpha1.PodUpdatePolicyType(c.cfg.updatePolicy))
				if err != nil {
					return err
				}
				_, err = c.dyn.Resource(gvr).Namespace(namespace).Create(ctx, obj, metav1.CreateOptions{})
				return err
			})
		}, func(g, _, _ int) bool { return g == target }, true, 0},
		{"rollout", imageV2, func() error {
			return parallel(ctx, len(names), 8, func(i int) error {
				_, err := c.dyn.Resource(gvr).Namespace(namespace).Patch(ctx, names[i], types.JSONPatchType,
					imagePatch(imageV2), metav1.PatchOptions{})
				return err
			})
		}, func(g, s, _ int) bool { return g == target && s == 0 }, true, c.cfg.sets * budget},
		{"delete", imageV2, func() error {
			background := metav1.DeletePropagationBackground
			return parallel(ctx, len(names), 8, func(i int) error {
				return c.dyn.Resource(gvr).Namespace(namespace).Delete(ctx, names[i],
					metav1.DeleteOptions{PropagationPolicy: &background})
			})
		}, func(_, _, n int) bool { return n == 0 }, false, 0},
	}
	for _, ph := range phases {
		pods.setWant(ph.want)
		if err := resetPeak(proc.pid()); err != nil {
			return result, fmt.Errorf("resetting the peak RSS of %s: %w", ctl, err)
		}
		before, err := c.sample(proc)
		if err != nil {
			return result, err
		}
		syncsBefore, syncErr := c.controllerSyncs(ctx, ctl)
		reqBefore, err := c.requestCounts(ctx)
		if err != nil {
			return result, fmt.Errorf("reading kube-apiserver metrics: %w", err)
		}
		start := time.Now()
		if err := ph.act(); err != nil {
			return result, fmt.Errorf("%s: %w", ph.name, err)
		}
		if err := pods.waitUntil(ctx, proc, ph.name+" to complete", ph.done); err != nil {
			return result, fmt.Errorf("%s: %w", ph.name, err)
		}
		wall := time.Since(start)
		timeline := pods.phaseTimeline()
		settled := true
		if ph.settle {
			settled = sets.waitSettled(ctx, len(names), c.cfg.nodes, 2*time.Minute)
		}
		settle := time.Since(start)
		after, err := c.sample(proc)
		if err != nil {
			return result, err
		}
		reqAfter, err := c.requestCounts(ctx)
		if err != nil {
			return result, fmt.Errorf("reading kube-apiserver metrics: %w", err)
		}
		syncs := -1
		syncsAfter, err := c.controllerSyncs(ctx, ctl)
		if syncErr == nil && err == nil {
			syncs = int(syncsAfter - syncsBefore)
		} else {
			logf("reading the controller's work queue metrics: %v", errors.Join(syncErr, err))
		}
		firstNew, lastNew, lastBound := pods.newPods()
		pr := phaseResult{
			APIRequests: requestDelta(reqBefore, reqAfter), FirstNewPodSeconds: firstNew.Seconds(),
			LastNewPodSeconds: lastNew.Seconds(), LastBoundPodSeconds: lastBound.Seconds(),
			Phase: ph.name, WallSeconds: wall.Seconds(), StatusSettledSeconds: settle.Seconds(), StatusSettled: settled,
			CPUSeconds: map[string]float64{}, ControllerPeakRSSBytes: after[controllerKey].PeakRSS,
			ControllerRSSBytes: after[controllerKey].RSS, Timeline: timeline,
			Turnaround: pods.turnaround(ph.budget),
		}
		for name, a := range after {
			pr.CPUSeconds[name] = (a.CPU - before[name].CPU).Seconds()
		}
		if c.cfg.profileDir != "" {
			c.saveHeapProfile(ctx, ctl, turn, ph.name)
		}
		pr.Syncs = syncs
		slots := ""
		if idle := pr.Turnaround.SlotIdle; idle != nil {
			slots = fmt.Sprintf(", slot idle mean %.3fs p90 %.3fs", idle.MeanSeconds, idle.P90Seconds)
		}
		logf("turn %s: %d syncs; %s in %.1fs (new pods from %.1fs to %.1fs, last bound %.1fs, pod turnaround mean %.2fs p90 %.2fs%s, status settled %v after %.1fs), controller %.2f CPU s, peak RSS %.1f MiB",
			turn, pr.Syncs, ph.name, pr.WallSeconds, pr.FirstNewPodSeconds, pr.LastNewPodSeconds, pr.LastBoundPodSeconds,
			pr.Turnaround.MeanSeconds, pr.Turnaround.P90Seconds, slots, settled, pr.StatusSettledSeconds,
			pr.CPUSeconds[controllerKey], float64(pr.ControllerPeakRSSBytes)/(1<<20))
		result.Phases = append(result.Phases, pr)
	}
	final, err := readUsage(proc.pid())
	if err != nil {
		return result, err
	}
	result.PeakRSSBytes = final.PeakRSS
	for _, p := range result.Phases {
		result.PeakRSSBytes = max(result.PeakRSSBytes, p.ControllerPeakRSSBytes)
	}
	stopProfiles()
	profiles.Wait()
	return result, nil
}

func setNames(turn string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "agent-" + turn
		if n > 1 {
			names[i] += "-" + strconv.Itoa(i+1)
		}
	}
	return names
}

// controllerKey is the name under which a phase's figures hold the controller under test.
const controllerKey = "controller"

// sample reads the usage of the controller and of every fixed component.
func (c *cluster) sample(ctl *process) (map[string]usage, error) {
	u, err := readUsage(ctl.pid())
	if err != nil {
		return nil, fmt.Errorf("reading /proc of the controller: %w", err)
	}
	out, err := c.sampleFixed()
	if err != nil {
		return nil, err
	}
	out[controllerKey] = u
	return out, nil
}

// sampleFixed reads the usage of every fixed component and of the bench itself.
func (c *cluster) sampleFixed() (map[string]usage, error) {
	out := map[string]usage{}
	for name, p := range c.fixed {
		u, err := readUsage(p.pid())
		if err != nil {
			return nil, fmt.Errorf("reading /proc of %s: %w", name, err)
		}
		out[name] = u
	}
	self, err := readUsage(os.Getpid())
	if err != nil {
		return nil, err
	}
	out["bench"] = self
	return out, nil
}

// measureIdle is what the control plane costs with its nodes and no controller under test: the CPU of every fixed
// component over a window of d, so each phase's figures can be read against what the same seconds cost anyway
// (lease renewals of every node, the garbage collector's and the scheduler's watches).
func (c *cluster) measureIdle(ctx context.Context, d time.Duration) (*idleResult, error) {
	sample := func() (map[string]usage, map[string]float64, error) {
		usages, err := c.sampleFixed()
		if err != nil {
			return nil, nil, err
		}
		requests, err := c.requestCounts(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("reading kube-apiserver metrics: %w", err)
		}
		return usages, requests, nil
	}
	before, reqBefore, err := sample()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// The window is the measurement itself, not a wait for some state.
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(d):
	}
	after, reqAfter, err := sample()
	if err != nil {
		return nil, err
	}
	r := &idleResult{Seconds: time.Since(start).Seconds(), CPUSeconds: map[string]float64{},
		APIRequests: requestDelta(reqBefore, reqAfter)}
	for name, a := range after {
		r.CPUSeconds[name] = (a.CPU - before[name].CPU).Seconds()
	}
	logf("idle for %.1fs: kube-apiserver %.2f CPU s, etcd %.2f, kwok %.2f, garbage collector %.2f, scheduler %.2f",
		r.Seconds, r.CPUSeconds["kube-apiserver"], r.CPUSeconds["etcd"], r.CPUSeconds["kwok"],
		r.CPUSeconds["garbage-collector"], r.CPUSeconds["kube-scheduler"])
	return r, nil
}

// startController starts the upstream DaemonSet controller or the NodeAgentSet manager with the bench's client
// settings, and waits until it answers its health check.
func (c *cluster) startController(ctx context.Context, ctl, turn string) (*process, error) {
	qps := fmt.Sprintf("--kube-api-qps=%g", c.cfg.qps)
	burst := fmt.Sprintf("--kube-api-burst=%d", c.cfg.burst)
	var (
		p   *process
		err error
		url string
	)
	if ctl == upstream {
		p, err = c.start("kube-controller-manager-"+turn, c.bins.controllerManager, []string{
			"--kubeconfig=" + c.kubecfg, "--controllers=daemonset", "--use-service-account-credentials=false",
			"--leader-elect=false", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports.controllerManager),
			"--cert-dir=" + filepath.Join(c.dir, "kube-controller-manager"),
			// The bench reads the work queue's metrics, as it does the manager's, and with --profile-dir its profiles.
			"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics,/debug/pprof/*",
			fmt.Sprintf("--concurrent-daemonset-syncs=%d", c.cfg.workers), qps, burst,
		}, nil)
		url = fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.controllerManager)
	} else {
		args := []string{
			"--leader-elect=false", "--metrics-secure=false",
			fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", c.ports.managerMetrics),
			fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", c.ports.managerHealth),
			fmt.Sprintf("--concurrent-nodeagentset-syncs=%d", c.cfg.workers), qps, burst,
		}
		if c.cfg.profileDir != "" {
			args = append(args, fmt.Sprintf("--pprof-bind-address=127.0.0.1:%d", c.ports.managerPprof))
		}
		args = append(args, c.cfg.managerArgs...)
		p, err = c.start("manager-"+turn, c.bins.manager, args,
			[]string{"KUBECONFIG=" + c.kubecfg, "ENABLE_WEBHOOKS=false"})
		url = fmt.Sprintf("http://127.0.0.1:%d/readyz", c.ports.managerHealth)
	}
	if err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, p, url, 2*time.Minute); err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// collectCPUProfiles fetches 10-second CPU profiles from the controller until ctx ends; `go tool pprof` merges them.
// Both controllers are profiled the same way (Go's net/http/pprof), so their profiles compare.
func (c *cluster) collectCPUProfiles(ctx context.Context, ctl, turn string) {
	for i := 1; ctx.Err() == nil; i++ {
		name := turn
		if ctl == "kube-apiserver" {
			name = "kube-apiserver-" + turn
		}
		path := filepath.Join(c.cfg.profileDir, fmt.Sprintf("cpu-%s-%03d.pb.gz", name, i))
		if err := c.fetchProfile(ctx, ctl, "/debug/pprof/profile?seconds=10", path); err != nil && ctx.Err() == nil {
			logf("CPU profile: %v", err)
			return
		}
	}
}

func (c *cluster) saveHeapProfile(ctx context.Context, ctl, turn, phase string) {
	path := filepath.Join(c.cfg.profileDir, fmt.Sprintf("heap-%s-%s.pb.gz", turn, phase))
	if err := c.fetchProfile(ctx, ctl, "/debug/pprof/heap", path); err != nil {
		logf("heap profile: %v", err)
	}
}

// fetchProfile saves one profile of ctl (or of "kube-apiserver"): the manager serves pprof on its own plain-HTTP
// port, kube-controller-manager on its secure port (--profiling is on by default; the bench lets /debug/pprof
// through without authorization), the API server to the bench's admin credentials.
func (c *cluster) fetchProfile(ctx context.Context, ctl, path, file string) error {
	base, httpClient := fmt.Sprintf("http://127.0.0.1:%d", c.ports.managerPprof), http.DefaultClient
	switch ctl {
	case upstream:
		base = fmt.Sprintf("https://127.0.0.1:%d", c.ports.controllerManager)
		httpClient = insecureLoopbackClient(0)
	case "kube-apiserver":
		var err error
		if httpClient, err = rest.HTTPClientFor(c.rest); err != nil {
			return err
		}
		base = strings.TrimSuffix(c.rest.Host, "/")
	}
	// A CPU profile in progress is let finish (not cancelled with ctx) so the last chunk is usable.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

func loadavg() string {
	if l := readLines("/proc/loadavg"); len(l) > 0 {
		return l[0]
	}
	return ""
}

func machine() machineJSON {
	m := machineJSON{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, LoadBefore: loadavg()}
	for _, l := range readLines("/proc/cpuinfo") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			m.CPUModel = strings.TrimSpace(v)
			break
		}
	}
	for _, l := range readLines("/proc/meminfo") {
		if strings.HasPrefix(l, "MemTotal:") {
			m.Memory = strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:"))
		}
	}
	return m
}

// controllerSyncs is how many set syncs the controller under test has done so far.
func (c *cluster) controllerSyncs(ctx context.Context, ctl string) (float64, error) {
	if ctl == upstream {
		return syncCount(ctx, fmt.Sprintf("https://127.0.0.1:%d/metrics", c.ports.controllerManager), "daemonset")
	}
	return syncCount(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.ports.managerMetrics), "nodeagentset")
}

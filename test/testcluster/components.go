package testcluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// component is a control-plane binary that the harness runs itself (envtest runs etcd and kube-apiserver).
type component struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// componentArgs renders a component's flags from its kubeconfig, serving port and certificate directory. No
// --authentication-kubeconfig: the only client of the serving port is the harness's probe of /healthz, an
// always-allowed path, and delegated authentication would keep looking for a request-header CA that envtest's
// API server does not publish.
type componentArgs func(kubeconfig string, port int, certDir string) []string

// schedulerArgs runs a kube-scheduler without leader election, serving its health endpoint on loopback only.
func schedulerArgs(kubeconfig string, port int, certDir string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		"--v=2",
	}
}

// controllerManagerArgs runs only the controllers that the suites rely on: the garbage collector (cascading
// deletes through ownerReferences) and the pod garbage collector (pods bound to deleted nodes). They use the
// manager's own credentials, so no service-account token machinery is needed.
func controllerManagerArgs(kubeconfig string, port int, certDir string) []string {
	return controllerManagerWith("garbagecollector,podgc")(kubeconfig, port, certDir)
}

// daemonSetControllerManagerArgs adds the upstream DaemonSet controller to controllerManagerArgs, for the suites
// that run real DaemonSets beside NodeAgentSets (migration).
func daemonSetControllerManagerArgs(kubeconfig string, port int, certDir string) []string {
	return controllerManagerWith("garbagecollector,podgc,daemonset")(kubeconfig, port, certDir)
}

func controllerManagerWith(controllers string) componentArgs {
	return func(kubeconfig string, port int, certDir string) []string {
		return controllerManagerFlags(kubeconfig, port, certDir, controllers)
	}
}

func controllerManagerFlags(kubeconfig string, port int, certDir, controllers string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=" + controllers,
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		"--v=2",
	}
}

// startComponent writes the component's kubeconfig, starts the binary from the assets directory with its output
// in a log file, and waits until its /healthz answers.
func (c *Cluster) startComponent(ctx context.Context, name, assets string, args componentArgs) error {
	binary := filepath.Join(assets, name)
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("%s binary: %w (run `make cluster-binaries`)", name, err)
	}
	kubeconfig, err := c.writeKubeconfig("system:" + name)
	if err != nil {
		return err
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	certDir := filepath.Join(c.dir, name+"-certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	logFile, err := c.openLog(name)
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, args(kubeconfig, port, certDir)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, so that a signal to the test's group does not race Stop; and killed with the thread that
	// started it should the test binary die without running its cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(c.log, "testcluster: starting %s on 127.0.0.1:%d\n", name, port)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	comp := &component{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		comp.waitErr = cmd.Wait()
		close(comp.exited)
	}()
	c.components = append(c.components, comp)
	return comp.waitHealthy(ctx, port, controlPlaneTimeout)
}

// waitHealthy polls https://127.0.0.1:port/healthz (an always-allowed path) until it answers 200.
func (p *component) waitHealthy(ctx context.Context, port int, timeout time.Duration) error {
	httpClient := &http.Client{
		Timeout: 2 * time.Second,
		// The component serves with a self-signed certificate made at start.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	deadline := time.Now().Add(timeout)
	for {
		resp, err := httpClient.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before becoming healthy: %v", p.name, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to become healthy: %w", p.name, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy at %s after %s: %v", p.name, url, timeout, err)
		}
	}
}

// stop sends SIGTERM, and SIGKILL if the process has not exited after a grace period.
func (p *component) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(15 * time.Second):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s: %w", p.name, err)
	}
	<-p.exited
	return nil
}

// FreePort asks the kernel for an unused loopback port (for a component, or a manager process's endpoint).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailLines returns at most n last lines of a file.
func tailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}

// RepoRoot is the directory holding this module's go.mod, found from the working directory upwards (go test runs
// each package in its own directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(raw), "module github.com/nodeagentset/nodeagentset\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod of github.com/nodeagentset/nodeagentset not found above the working directory")
		}
		dir = parent
	}
}

// AssetsDir is where the control-plane binaries are: KUBEBUILDER_ASSETS, or else the newest
// bin/cluster/envtest-* directory of the repository (what `make cluster-binaries` fills).
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	matches, err := filepath.Glob(filepath.Join(root, "bin", "cluster", "envtest-*"))
	if err != nil || len(matches) == 0 {
		return "", errors.New("KUBEBUILDER_ASSETS is not set and bin/cluster/envtest-* does not exist: run `make cluster-binaries`")
	}
	// Several versions may be side by side; take the lexically last for a deterministic choice (set
	// KUBEBUILDER_ASSETS to pick another).
	return matches[len(matches)-1], nil
}

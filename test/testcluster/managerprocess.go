package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// ManagerBinary is the manager command (cmd/) compiled into the cluster's directory, built on the first call and
// reused for the rest of the suite.
func (c *Cluster) ManagerBinary(ctx context.Context) (string, error) {
	c.buildMu.Lock()
	defer c.buildMu.Unlock()
	if c.managerBinary != "" {
		return c.managerBinary, nil
	}
	binary, err := BuildManager(ctx, c.dir)
	if err != nil {
		return "", err
	}
	c.managerBinary = binary
	return binary, nil
}

// BuildManager compiles the manager command (cmd/) into dir and returns the binary's path.
func BuildManager(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	binary := filepath.Join(dir, "nodeagentset-manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	return binary, nil
}

// ManagerProcess is a manager binary running against the cluster as its own process, as a replica of the manager
// Deployment would: it can be killed or terminated like one.
type ManagerProcess struct {
	Name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartManagerProcess runs binary (see BuildManager) with an admin kubeconfig, webhooks off, no metrics or health
// endpoints, and the given extra flags (leader election, lease timings). Its output goes to a log file that
// DumpLogs includes. It returns once the process has started; Stop it (a DeferCleanup) in every case.
func (c *Cluster) StartManagerProcess(binary, name string, args ...string) (*ManagerProcess, error) {
	kubeconfig, err := c.writeKubeconfig("nodeagentset-manager-" + name)
	if err != nil {
		return nil, err
	}
	logFile, err := c.openLog("manager-" + name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "ENABLE_WEBHOOKS=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// As for the components: its own process group, and killed should the test binary die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(c.log, "testcluster: starting manager process %s\n", name)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting manager process %s: %w", name, err)
	}
	p := &ManagerProcess{Name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Kill sends SIGKILL, as a node failure or the OOM killer would, and waits for the process to be gone.
func (p *ManagerProcess) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing manager %s: %w", p.Name, err)
	}
	<-p.exited
	return nil
}

// Terminate sends SIGTERM, as the kubelet does when a Deployment rolls, without waiting.
func (p *ManagerProcess) Terminate() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("terminating manager %s: %w", p.Name, err)
	}
	return nil
}

// Exited reports whether the process has ended, and how.
func (p *ManagerProcess) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Wait waits up to timeout for the process to end.
func (p *ManagerProcess) Wait(timeout time.Duration) error {
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("manager %s still running after %s", p.Name, timeout)
	}
}

// Stop terminates the process, kills it if it has not ended after a grace period, and waits for it.
func (p *ManagerProcess) Stop() error {
	if done, _ := p.Exited(); done {
		return nil
	}
	_ = p.Terminate()
	if p.Wait(managerStopTimeout) == nil {
		return nil
	}
	return p.Kill()
}

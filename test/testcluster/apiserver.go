package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// restartedAPIServer is a kube-apiserver the harness started again itself after StopAPIServer: the same command
// line as envtest's (same port, certificates, users and etcd), so every client configuration stays valid.
type restartedAPIServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// StopAPIServer kills kube-apiserver, as a crash or a failed control-plane node would, and waits until the process is
// gone; etcd, the components, the fake kubelets and any manager keep running and find the API server vanished.
// StartAPIServer brings it back. (A SIGTERM would keep the server draining long-running requests for a minute.)
func (c *Cluster) StopAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserverArgs != nil {
		return errors.New("StopAPIServer: kube-apiserver is already stopped")
	}
	if r := c.apiserver; r != nil {
		args := r.cmd.Args
		c.apiserver = nil
		if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return err
		}
		select {
		case <-r.exited:
		case <-time.After(controlPlaneTimeout):
			return errors.New("kube-apiserver did not stop")
		}
		c.apiserverArgs = args
		return nil
	}
	// The first stop: envtest's process, a child of this one. envtest reaps it and finds it exited at Stop.
	pids, err := childPIDs(os.Getpid(), map[string]bool{"kube-apiserver": true})
	if err != nil {
		return err
	}
	if len(pids) != 1 {
		return fmt.Errorf("StopAPIServer: found %d kube-apiserver processes, want 1", len(pids))
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/cmdline")
	if err != nil {
		return fmt.Errorf("reading kube-apiserver's command line: %w", err)
	}
	args := splitCmdline(raw)
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	deadline := time.Now().Add(controlPlaneTimeout)
	for syscall.Kill(pids[0], 0) == nil {
		if time.Now().After(deadline) {
			return errors.New("kube-apiserver did not stop")
		}
		time.Sleep(50 * time.Millisecond) // polling a process's exit: no event to wait on for another's child
	}
	c.apiserverArgs = args
	return nil
}

// APIServerStopped reports whether StopAPIServer has stopped kube-apiserver and StartAPIServer not started it yet.
func (c *Cluster) APIServerStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apiserverArgs != nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, with the same command line, and waits until it
// answers /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	args := c.apiserverArgs
	c.mu.Unlock()
	if args == nil {
		return errors.New("StartAPIServer: kube-apiserver was not stopped")
	}
	logFile, err := c.openLog("kube-apiserver-restarted")
	if err != nil {
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restarting kube-apiserver: %w", err)
	}
	r := &restartedAPIServer{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	c.mu.Lock()
	c.apiserver, c.apiserverArgs = r, nil
	c.mu.Unlock()

	deadline := time.Now().Add(controlPlaneTimeout)
	for {
		body, err := c.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && bytes.Equal(bytes.TrimSpace(body), []byte("ok")) {
			return nil
		}
		select {
		case <-r.exited:
			return errors.New("the restarted kube-apiserver exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond): // polling a starting server, as waitHealthy does
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the restarted kube-apiserver is not ready after %s: %v", controlPlaneTimeout, err)
		}
	}
}

// stopRestartedAPIServer stops a kube-apiserver that StartAPIServer started, before etcd goes.
func (c *Cluster) stopRestartedAPIServer() {
	c.mu.Lock()
	r := c.apiserver
	c.apiserver = nil
	c.mu.Unlock()
	if r == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

func splitCmdline(raw []byte) []string {
	var args []string
	for _, part := range bytes.Split(bytes.TrimRight(raw, "\x00"), []byte{0}) {
		args = append(args, string(part))
	}
	return args
}

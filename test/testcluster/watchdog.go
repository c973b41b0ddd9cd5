package testcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// watchdog is a small shell process that kills the control-plane processes should the test binary die without
// running its cleanup (go test's -timeout panics, a SIGKILL). Normal shutdown goes through Cluster.Stop, which
// stops the watchdog last.
type watchdog struct {
	cmd *exec.Cmd
}

// watchdogScript polls the test process and, once it is gone, kills the listed processes.
const watchdogScript = `parent=$1; shift
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
kill -9 "$@" 2>/dev/null
exit 0`

// controlPlaneNames are the executables envtest starts as children of the test process.
var controlPlaneNames = map[string]bool{"etcd": true, "kube-apiserver": true}

// startWatchdog guards envtest's etcd and kube-apiserver (found among this process's children) and the components
// the harness started.
func startWatchdog(components []*component) (*watchdog, error) {
	pids, err := childPIDs(os.Getpid(), controlPlaneNames)
	if err != nil {
		return nil, fmt.Errorf("finding the control-plane processes to guard: %w", err)
	}
	for _, comp := range components {
		pids = append(pids, comp.cmd.Process.Pid)
	}
	args := []string{"-c", watchdogScript, "nas-testcluster-watchdog", strconv.Itoa(os.Getpid())}
	for _, pid := range pids {
		args = append(args, strconv.Itoa(pid))
	}
	cmd := exec.Command("/bin/sh", args...)
	// Its own process group: an interrupt aimed at the test must not take the watchdog down before the test has
	// cleaned up (or failed to).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the process watchdog: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return &watchdog{cmd: cmd}, nil
}

func (w *watchdog) stop() {
	_ = w.cmd.Process.Kill()
}

// childPIDs lists the direct children of parent whose executable name is in names, from /proc.
func childPIDs(parent int, names map[string]bool) ([]int, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited meanwhile
		}
		pid, ppid, comm, ok := parseStat(string(raw))
		if ok && ppid == parent && names[comm] {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// parseStat reads pid, parent pid and command name from a /proc/<pid>/stat line: "pid (comm) state ppid ...".
// The command name may itself hold spaces and parentheses, hence the last ')'.
func parseStat(line string) (pid, ppid int, comm string, ok bool) {
	open := strings.IndexByte(line, '(')
	closing := strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return 0, 0, "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return 0, 0, "", false
	}
	fields := strings.Fields(line[closing+1:])
	if len(fields) < 2 {
		return 0, 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, "", false
	}
	return pid, ppid, line[open+1 : closing], true
}

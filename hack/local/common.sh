# Shared by hack/run-local.sh and hack/stop-local.sh: where a local cluster keeps its state, which ports it uses, and
# how its processes are recorded and stopped. Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# State directory: certificates, kubeconfigs, etcd data, logs and the process list. Removed when the cluster stops.
LOCAL_CLUSTER_DIR=${LOCAL_CLUSTER_DIR:-$ROOT/.local-cluster}
case $LOCAL_CLUSTER_DIR in /*) ;; *) LOCAL_CLUSTER_DIR=$PWD/$LOCAL_CLUSTER_DIR ;; esac
PKI_DIR=$LOCAL_CLUSTER_DIR/pki
LOG_DIR=$LOCAL_CLUSTER_DIR/logs
PID_DIR=$LOCAL_CLUSTER_DIR/pids
KUBECONFIG_DIR=$LOCAL_CLUSTER_DIR/kubeconfigs
ADMIN_KUBECONFIG=$LOCAL_CLUSTER_DIR/kubeconfig

# Every port is LOCAL_PORT_BASE plus a fixed offset, so a second cluster (the e2e suite's) only needs another base.
LOCAL_PORT_BASE=${LOCAL_PORT_BASE:-17000}
ETCD_CLIENT_PORT=$((LOCAL_PORT_BASE + 379))
ETCD_PEER_PORT=$((LOCAL_PORT_BASE + 380))
APISERVER_PORT=$((LOCAL_PORT_BASE + 443))
CONTROLLER_MANAGER_PORT=$((LOCAL_PORT_BASE + 257))
SCHEDULER_PORT=$((LOCAL_PORT_BASE + 259))
MANAGER_HEALTH_PORT=$((LOCAL_PORT_BASE + 81))
MANAGER_WEBHOOK_PORT=$((LOCAL_PORT_BASE + 943))

# Manager replicas (REPLICAS=2 runs two with leader election, to try a failover). Replica i (from 0) serves its
# health probes on MANAGER_HEALTH_PORT+i and its webhooks on MANAGER_WEBHOOK_PORT+i, and is recorded as "manager"
# (replica 0) or "manager-i".
REPLICAS=${REPLICAS:-1}
manager_name() { if (($1 == 0)); then echo manager; else echo "manager-$1"; fi; }

# STATE_MARKER marks a directory this script created, so that nothing else is ever removed by mistake.
STATE_MARKER=$LOCAL_CLUSTER_DIR/.nodeagentset-local-cluster

# remove_state: deletes the state directory, refusing one this script did not create.
remove_state() {
  [[ -e $LOCAL_CLUSTER_DIR ]] || return 0
  if [[ ! -f $STATE_MARKER ]]; then
    die "$LOCAL_CLUSTER_DIR exists but was not created by hack/run-local.sh; not removing it (set LOCAL_CLUSTER_DIR to a new directory)"
  fi
  rm -rf "$LOCAL_CLUSTER_DIR"
}

LOCAL_BIN=$ROOT/bin
CLUSTER_BIN_DIR=${CLUSTER_BIN_DIR:-$LOCAL_BIN/cluster}

say() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { printf '[local-cluster] error: %s\n' "$*" >&2; exit 1; }

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Each started process has PID_DIR/<name>.pid holding "<pid> <binary>"; PID_DIR/order lists the names in start
# order. Stopping goes in reverse order and only signals a pid whose executable is still the recorded binary, so a
# reused pid is never hit.

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
  local state
  if [[ -r /proc/$1/stat ]]; then
    state=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    state=${state##*) }
  else
    state=$(ps -p "$1" -o stat= 2>/dev/null) || return 1
    state=${state# }
  fi
  [[ -n $state && ${state:0:1} != Z ]]
}

# is_binary PID BIN: the process runs the executable BIN.
is_binary() {
  local want exe
  want=$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")
  if [[ -e /proc/$1/exe ]]; then
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
    # A rebuild (go build -o bin/manager) replaces the file under a running process: Linux then shows the old
    # path with " (deleted)", and it is still our process.
    [[ $exe == "$want" || $exe == "$want (deleted)" ]]
  else
    exe=$(ps -p "$1" -o args= 2>/dev/null) || return 1
    [[ $exe == "$want"* || $exe == "$2"* ]]
  fi
}

# recorded_pid NAME: prints the pid of NAME if that process is still the one we started.
recorded_pid() {
  local file=$PID_DIR/$1.pid pid bin
  [[ -f $file ]] || return 1
  read -r pid bin < "$file" || return 1
  [[ -n $pid ]] && alive "$pid" && is_binary "$pid" "$bin" || return 1
  echo "$pid"
}

# running_components: names of recorded processes that are still alive.
running_components() {
  [[ -f $PID_DIR/order ]] || return 0
  local name
  while read -r name; do
    if recorded_pid "$name" >/dev/null; then echo "$name"; fi
  done < "$PID_DIR/order"
}

# stop_components: SIGTERM every recorded process, newest first, each given up to 15s before SIGKILL.
stop_components() {
  [[ -f $PID_DIR/order ]] || return 0
  local names=() name pid i
  while read -r name; do names+=("$name"); done < "$PID_DIR/order"
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do
    name=${names[i]}
    pid=$(recorded_pid "$name") || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 150); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      say "$name (pid $pid) did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

#!/usr/bin/env bash
# Runs NodeAgentSet on a local simulated cluster: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
# (real binaries, built from the Go module proxy) on 127.0.0.1, kwok simulating the kubelets of N nodes, the CRDs and
# webhook configuration installed, the manager running from this checkout, and config/samples applied.
#
# Usage: hack/run-local.sh [--detach] [--nodes N] [--no-manager] [--no-webhooks] [--no-samples]
#   --detach       leave the cluster running in the background and return; stop it with hack/stop-local.sh
#   --nodes N      simulated nodes, one of them the control plane (default 5, env LOCAL_NODES)
#   --no-manager   only the cluster: no CRDs, manager or samples (env LOCAL_MANAGER=false)
#   --no-webhooks  run the manager without its admission webhooks (env ENABLE_WEBHOOKS=false)
#   --no-samples   do not apply config/samples (env LOCAL_SAMPLES=false)
# Environment: LOCAL_CLUSTER_DIR (state, default .local-cluster), LOCAL_PORT_BASE (default 17000; ports are base+81,
# +257, +259, +379, +380, +443, +943), LOCAL_DETACH=true, LOCAL_MANAGER_AS_ADMIN=true (run the manager as cluster
# admin instead of under its generated RBAC role), REPLICAS=N (N manager replicas with leader election, the Lease in
# kube-system; replica i serves health probes on base+81+i and webhooks on base+943+i; see docs/ha.md).
#
# In the foreground, Ctrl-C stops every process this script started and removes the state directory.
set -euo pipefail

# shellcheck source=local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/local/common.sh"

DETACH=${LOCAL_DETACH:-false}
NODES=${LOCAL_NODES:-5}
WITH_MANAGER=${LOCAL_MANAGER:-true}
WITH_SAMPLES=${LOCAL_SAMPLES:-true}
WEBHOOKS=${ENABLE_WEBHOOKS:-true}
MANAGER_AS_ADMIN=${LOCAL_MANAGER_AS_ADMIN:-false}

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --detach|-d) DETACH=true ;;
    --nodes) [[ $# -ge 2 ]] || die "--nodes needs a number"; NODES=$2; shift ;;
    --nodes=*) NODES=${1#--nodes=} ;;
    --no-manager) WITH_MANAGER=false ;;
    --no-webhooks) WEBHOOKS=false ;;
    --no-samples) WITH_SAMPLES=false ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[[ $NODES =~ ^[0-9]+$ && $NODES -ge 2 ]] ||
  die "--nodes (LOCAL_NODES) must be a number of at least 2 (one control-plane node and one worker), got '$NODES'"
[[ $WITH_MANAGER == true ]] || WITH_SAMPLES=false
[[ $REPLICAS =~ ^[0-9]+$ && $REPLICAS -ge 1 && $REPLICAS -le 9 ]] ||
  die "REPLICAS must be a number of manager replicas from 1 to 9, got '$REPLICAS'"

# ---------------------------------------------------------------------------------------------------------------------
# Preflight: one cluster per state directory, and every port free.

running=$(running_components | tr '\n' ' ')
if [[ -n $running ]]; then
  die "a local cluster is already running from $LOCAL_CLUSTER_DIR ($running); use it, or stop it first: make stop-local"
fi
if [[ -e $LOCAL_CLUSTER_DIR ]]; then
  [[ -f $STATE_MARKER ]] || remove_state # refuses with a message
  say "removing the state of a cluster that did not stop cleanly ($LOCAL_CLUSTER_DIR)"
  remove_state
fi

check_port() {
  if port_in_use "$2"; then
    die "port $2 on 127.0.0.1 (for $1) is already in use by another program. Stop that program, or pick other ports:" \
      "LOCAL_PORT_BASE=<n> make run-local uses n+81 ... n+943 (now $LOCAL_PORT_BASE)."
  fi
}
check_port etcd "$ETCD_CLIENT_PORT"
check_port "etcd peer" "$ETCD_PEER_PORT"
check_port kube-apiserver "$APISERVER_PORT"
check_port kube-controller-manager "$CONTROLLER_MANAGER_PORT"
check_port kube-scheduler "$SCHEDULER_PORT"

# ---------------------------------------------------------------------------------------------------------------------
# Build. Everything is cached: the cluster components by version in bin/cluster, the Go programs by the build cache.

say "building the cluster components (cached in $CLUSTER_BIN_DIR after the first run)"
component_dirs=$(CLUSTER_BIN_DIR=$CLUSTER_BIN_DIR "$ROOT/hack/cluster-binaries.sh" local) ||
  die "building the cluster components failed; the go output above says why (the first build needs the Go module proxy)"
component_dir() { sed -n "s/^$1=//p" <<<"$component_dirs"; }
ETCD=$(component_dir etcd)/etcd
KUBE_DIR=$(component_dir kubernetes)
KWOK=$(component_dir kwok)/kwok
KUBECTL=$KUBE_DIR/kubectl
for bin in "$ETCD" "$KUBE_DIR/kube-apiserver" "$KUBE_DIR/kube-controller-manager" "$KUBE_DIR/kube-scheduler" \
  "$KUBECTL" "$KWOK"; do
  [[ -x $bin ]] || die "hack/cluster-binaries.sh did not produce $bin"
done
# The kubectl of the cluster's version goes next to the manager and the plugin, so one PATH entry gives all three.
ln -sfn "${KUBECTL#"$LOCAL_BIN"/}" "$LOCAL_BIN/kubectl"

say "building the local-cluster tools, the manager and the kubectl plugin"
(cd "$ROOT" && go build -o "$LOCAL_BIN/local/" ./hack/local/certgen ./hack/local/webhookconfig) ||
  die "building hack/local/certgen and hack/local/webhookconfig failed (see above)"
if [[ $WITH_MANAGER == true ]]; then
  [[ -f $ROOT/cmd/main.go ]] || die "cmd/main.go is missing, so there is no manager to run; use --no-manager"
  (cd "$ROOT" && go build -o "$LOCAL_BIN/manager" ./cmd) ||
    die "building the manager (go build ./cmd) failed; fix the errors above, or run the cluster alone with --no-manager"
fi
if compgen -G "$ROOT/cmd/kubectl-nas/*.go" >/dev/null; then
  (cd "$ROOT" && go build -o "$LOCAL_BIN/kubectl-nas" ./cmd/kubectl-nas) ||
    die "building the kubectl plugin (go build ./cmd/kubectl-nas) failed (see above)"
fi

WEBHOOK_MANIFESTS=$ROOT/config/webhook/manifests.yaml
if [[ $WITH_MANAGER == true && $WEBHOOKS != false && ! -f $WEBHOOK_MANIFESTS ]]; then
  say "no $WEBHOOK_MANIFESTS: running the manager without admission webhooks"
  WEBHOOKS=false
fi
MANAGER_WEBHOOK_ARGS=()
if [[ $WITH_MANAGER == true && $WEBHOOKS != false ]]; then
  # controller-runtime's webhook server listens on 9443 unless the manager offers a flag to move it.
  manager_help=$("$LOCAL_BIN/manager" --help 2>&1 || true)
  if [[ $manager_help == *-webhook-port* ]]; then
    MANAGER_WEBHOOK_ARGS+=("--webhook-port=$MANAGER_WEBHOOK_PORT")
  else
    MANAGER_WEBHOOK_PORT=9443
  fi
  for ((r = 0; r < REPLICAS; r++)); do
    check_port "the webhook server of manager replica $r" "$((MANAGER_WEBHOOK_PORT + r))"
  done
fi
if [[ $WITH_MANAGER == true ]]; then
  for ((r = 0; r < REPLICAS; r++)); do
    check_port "the health probes of manager replica $r" "$((MANAGER_HEALTH_PORT + r))"
  done
fi

# ---------------------------------------------------------------------------------------------------------------------
# From here on, every exit path stops what was started.

mkdir -p "$LOCAL_CLUSTER_DIR"
touch "$STATE_MARKER"
mkdir -p "$PKI_DIR" "$LOG_DIR" "$PID_DIR" "$KUBECONFIG_DIR"
: > "$PID_DIR/order"
READY=false

teardown() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [[ $DETACH == true && $READY == true ]]; then
    exit 0
  fi
  if [[ $status -ne 0 && $status -lt 128 ]]; then
    if [[ $READY == true ]]; then say "stopping the cluster"; else say "start-up failed; stopping what was started"; fi
  fi
  stop_components
  remove_state
  say "stopped; removed $LOCAL_CLUSTER_DIR"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME BINARY ARGS...: runs BINARY in its own session (terminal signals reach only this script, which stops
# the processes in order), output in LOG_DIR/NAME.log.
start() {
  local name=$1 bin=$2
  shift 2
  if command -v setsid >/dev/null; then
    setsid "$bin" "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  else
    nohup "$bin" "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  fi
  echo "$! $bin" > "$PID_DIR/$name.pid"
  echo "$name" >> "$PID_DIR/order"
}

# fail_with_log NAME MESSAGE: the last lines of NAME's log, then exit.
fail_with_log() {
  say "$2; last lines of $LOG_DIR/$1.log:"
  tail -n 25 "$LOG_DIR/$1.log" >&2 || true
  exit 1
}

# wait_for NAME TIMEOUT_SECONDS WHAT COMMAND...: retries COMMAND every half second while NAME still runs.
wait_for() {
  local name=$1 timeout=$2 what=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    recorded_pid "$name" >/dev/null || fail_with_log "$name" "$name exited while waiting for $what"
    ((SECONDS < deadline)) || fail_with_log "$name" "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
}

kc() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# http_ok PORT PATH: a plain-HTTP GET on 127.0.0.1:PORT answers 200 (no curl needed).
http_ok() (
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  read -r -t 5 line <&3 || exit 1
  [[ $line == *" 200 "* || $line == *" 200"$'\r' ]]
)

# ---------------------------------------------------------------------------------------------------------------------
# Certificates and kubeconfigs.

APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
"$LOCAL_BIN/local/certgen" -pki-dir "$PKI_DIR" -kubeconfig-dir "$KUBECONFIG_DIR" -server "$APISERVER_URL"
cp "$KUBECONFIG_DIR/admin.kubeconfig" "$ADMIN_KUBECONFIG"

# ---------------------------------------------------------------------------------------------------------------------
# Control plane.

say "starting etcd on 127.0.0.1:$ETCD_CLIENT_PORT"
start etcd "$ETCD" \
  --name=local --data-dir="$LOCAL_CLUSTER_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level=warn
wait_for etcd 30 "etcd to listen" port_in_use "$ETCD_CLIENT_PORT"

say "starting kube-apiserver on $APISERVER_URL"
start kube-apiserver "$KUBE_DIR/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
  --client-ca-file="$PKI_DIR/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI_DIR/sa.pub" --service-account-signing-key-file="$PKI_DIR/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true \
  --endpoint-reconciler-type=none \
  --profiling=false
# --endpoint-reconciler-type=none: the kubernetes Service cannot have a loopback endpoint, and nothing in this
# cluster runs in a pod that would need it.
wait_for kube-apiserver 90 "kube-apiserver to be ready" kc get --raw=/readyz

say "starting kube-controller-manager and kube-scheduler"
start kube-controller-manager "$KUBE_DIR/kube-controller-manager" \
  --kubeconfig="$KUBECONFIG_DIR/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig="$KUBECONFIG_DIR/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig="$KUBECONFIG_DIR/kube-controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" \
  --cert-dir="$LOCAL_CLUSTER_DIR/kube-controller-manager" \
  --leader-elect=false \
  --controllers='*' \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
  --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
  --profiling=false
start kube-scheduler "$KUBE_DIR/kube-scheduler" \
  --kubeconfig="$KUBECONFIG_DIR/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig="$KUBECONFIG_DIR/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig="$KUBECONFIG_DIR/kube-scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" \
  --leader-elect=false \
  --profiling=false

# ---------------------------------------------------------------------------------------------------------------------
# Simulated nodes.

# node_manifest TEMPLATE NAME ZONE IP: a node from hack/local/nodes/TEMPLATE.yaml.
node_manifest() {
  sed -e "s/__NAME__/$2/g" -e "s/__ZONE__/$3/g" -e "s/__IP__/$4/g" "$ROOT/hack/local/nodes/$1.yaml"
  echo "---"
}
zones=(zone-a zone-b zone-c)
{
  node_manifest control-plane kwok-control-plane zone-a 10.89.0.10
  for ((i = 1; i < NODES; i++)); do
    node_manifest worker "kwok-node-$i" "${zones[$(((i - 1) % 3))]}" "10.89.0.$((10 + i))"
  done
} > "$LOCAL_CLUSTER_DIR/nodes.yaml"
kc apply -f "$LOCAL_CLUSTER_DIR/nodes.yaml" >/dev/null

say "starting kwok with $NODES simulated nodes (1 control-plane, $((NODES - 1)) workers)"
stage_files=$(printf '%s,' "$ROOT"/hack/local/stages/*.yaml)
KWOK_WORKDIR=$LOCAL_CLUSTER_DIR/kwok start kwok "$KWOK" \
  --kubeconfig="$KUBECONFIG_DIR/kwok.kubeconfig" \
  --config="${stage_files%,}" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 \
  --cidr=10.244.0.0/16
# KWOK_WORKDIR keeps kwok from reading a ~/.kwok/kwok.yaml the user may have.

nodes_settled() {
  kc wait --for=condition=Ready nodes --all --timeout=1s &&
    # The node lifecycle controller lifts the not-ready taint that admission put on each new node.
    ! kc get nodes -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q node.kubernetes.io/not-ready &&
    # The service-account controller gives every namespace its default account; pods cannot be created before.
    kc get serviceaccount default --namespace=default
}
wait_for kwok 120 "the nodes to become Ready" nodes_settled
recorded_pid kube-controller-manager >/dev/null || fail_with_log kube-controller-manager "kube-controller-manager exited"
recorded_pid kube-scheduler >/dev/null || fail_with_log kube-scheduler "kube-scheduler exited"

# ---------------------------------------------------------------------------------------------------------------------
# NodeAgentSet: CRDs, RBAC, manager, webhooks, samples.

if [[ $WITH_MANAGER == true ]]; then
  say "installing the CRDs"
  kc apply --server-side --force-conflicts -f "$ROOT/config/crd/bases" >/dev/null
  # Not kubectl wait: it fails at once on a CRD whose status has no conditions yet.
  crds_established() {
    local crd
    for crd in "$ROOT"/config/crd/bases/*.yaml; do
      [[ $(kc get -f "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}') == True ]] ||
        return 1
    done
  }
  wait_for kube-apiserver 60 "the CRDs to be established" crds_established

  MANAGER_KUBECONFIG=$KUBECONFIG_DIR/manager.kubeconfig
  if [[ $MANAGER_AS_ADMIN != true && -f $ROOT/config/rbac/role.yaml ]]; then
    # The manager runs as an ordinary user bound to the ClusterRole generated from its RBAC markers, as it would
    # under its ServiceAccount in a real cluster: a missing marker shows up here.
    kc apply -f "$ROOT/config/rbac/role.yaml" >/dev/null
    kc create clusterrolebinding nodeagentset-local-manager --clusterrole=manager-role --user=nodeagentset-manager \
      >/dev/null
    if ((REPLICAS > 1)); then
      # The leader election Role of config/rbac, in the namespace that holds the Lease.
      sed 's/^  namespace: system$/  namespace: kube-system/' "$ROOT/config/rbac/leader_election_role.yaml" | kc apply -f - >/dev/null
      kc create rolebinding nodeagentset-local-leader-election --namespace=kube-system --role=leader-election-role \
        --user=nodeagentset-manager >/dev/null
    fi
  else
    MANAGER_KUBECONFIG=$ADMIN_KUBECONFIG
  fi

  leader_args=(--leader-elect=false)
  if ((REPLICAS > 1)); then
    # Outside a cluster the manager has no namespace of its own: the Lease goes to kube-system.
    leader_args=(--leader-elect=true --leader-election-namespace=kube-system)
  fi
  for ((r = 0; r < REPLICAS; r++)); do
    manager_args=("${leader_args[@]}" --metrics-bind-address=0
      --health-probe-bind-address="127.0.0.1:$((MANAGER_HEALTH_PORT + r))" --zap-encoder=console)
    if [[ $WEBHOOKS != false ]]; then
      webhook_args=("${MANAGER_WEBHOOK_ARGS[@]}")
      ((${#webhook_args[@]} == 0)) || webhook_args=("--webhook-port=$((MANAGER_WEBHOOK_PORT + r))")
      manager_args+=(--webhook-cert-path="$PKI_DIR/webhook" "${webhook_args[@]}")
    fi
    name=$(manager_name "$r")
    say "starting NodeAgentSet manager replica $r of $REPLICAS as $name (webhooks: $([[ $WEBHOOKS != false ]] && echo "on, port $((MANAGER_WEBHOOK_PORT + r))" || echo off))"
    KUBECONFIG=$MANAGER_KUBECONFIG ENABLE_WEBHOOKS=$WEBHOOKS start "$name" "$LOCAL_BIN/manager" "${manager_args[@]}"
  done
  for ((r = 0; r < REPLICAS; r++)); do
    wait_for "$(manager_name "$r")" 60 "manager replica $r to be ready" http_ok "$((MANAGER_HEALTH_PORT + r))" /readyz
  done

  if [[ $WEBHOOKS != false ]]; then
    wait_for manager 30 "the manager's webhook server" port_in_use "$MANAGER_WEBHOOK_PORT"
    "$LOCAL_BIN/local/webhookconfig" -in "$WEBHOOK_MANIFESTS" -url "https://127.0.0.1:$MANAGER_WEBHOOK_PORT" \
      -ca-file "$PKI_DIR/webhook-ca.crt" -out "$LOCAL_CLUSTER_DIR/webhooks.yaml"
    kc apply -f "$LOCAL_CLUSTER_DIR/webhooks.yaml" >/dev/null
  fi
fi

if [[ $WITH_SAMPLES == true ]]; then
  if [[ -f $ROOT/config/samples/kustomization.yaml ]]; then
    say "applying config/samples"
    kc apply -k "$ROOT/config/samples"
  elif compgen -G "$ROOT/config/samples/*.yaml" >/dev/null; then
    say "applying config/samples"
    kc apply -f "$ROOT/config/samples"
  else
    say "config/samples has no manifests; nothing to apply"
  fi

  # A set is settled when the controller saw its latest spec and every node it wants has a ready pod.
  samples_ready() {
    local rows
    rows=$(kc get nodeagentsets --all-namespaces -o \
      jsonpath='{range .items[*]}{.metadata.generation} {.status.observedGeneration} {.status.desiredNumberScheduled} {.status.numberReady}{"\n"}{end}') ||
      return 1
    awk 'NF < 4 || $1 != $2 || $3 != $4 { bad = 1 } END { exit bad }' <<<"$rows"
  }
  deadline=$((SECONDS + 120))
  until samples_ready; do
    recorded_pid manager >/dev/null || fail_with_log manager "the manager exited"
    if ((SECONDS >= deadline)); then
      say "warning: the samples' pods are not all ready after 120s; see kubectl get nas -A and $LOG_DIR/manager.log"
      break
    fi
    sleep 1
  done
fi

# ---------------------------------------------------------------------------------------------------------------------
# Tell the user what to type next.

READY=true
{
  echo
  kc get nodes -o wide 2>/dev/null | cut -c1-120 || true
  if [[ $WITH_MANAGER == true ]]; then
    echo
    kc get nodeagentsets --all-namespaces 2>/dev/null || true
  fi
  echo
  echo "The local cluster is up: $NODES simulated nodes (kwok), logs in $LOG_DIR."
  echo "In another terminal:"
  echo
  echo "  export KUBECONFIG=$ADMIN_KUBECONFIG"
  echo "  export PATH=$LOCAL_BIN:\$PATH     # kubectl $(basename "$KUBE_DIR" | sed 's/^kubernetes-//'), the manager and kubectl-nas"
  echo "  kubectl get nodes"
  if [[ $WITH_MANAGER == true ]]; then
    first=$(kc get nodeagentsets --all-namespaces -o jsonpath='{.items[0].metadata.namespace} {.items[0].metadata.name}' 2>/dev/null || true)
    echo "  kubectl get nas --all-namespaces"
    echo "  kubectl get pods --all-namespaces -o wide"
    if [[ -n $first && -x $LOCAL_BIN/kubectl-nas ]]; then
      echo "  kubectl nas rollout status ${first#* } --namespace ${first%% *}"
    fi
  fi
  echo
  if ((REPLICAS > 1)); then
    echo "$REPLICAS manager replicas run with leader election (logs $LOG_DIR/manager*.log). To try a failover:"
    echo "  leader=\$(basename \$(grep -l 'Successfully acquired lease' $LOG_DIR/manager*.log) .log)   # the replica holding the lease"
    echo "  kill -TERM \$(cut -d' ' -f1 $PID_DIR/\$leader.pid)   # or -KILL; another replica takes over (docs/ha.md)"
    echo "  kubectl get lease nodeagentset.nodeagentset.io --namespace kube-system -o jsonpath='{.spec.holderIdentity}'"
    echo
  fi
  if [[ $DETACH == true ]]; then
    echo "It runs in the background. Stop it and remove its state with: make stop-local"
  else
    echo "Press Ctrl-C here to stop every process and remove $LOCAL_CLUSTER_DIR."
  fi
} >&2

if [[ $DETACH == true ]]; then
  exit 0
fi

# Foreground: stay until Ctrl-C, and stop everything if a component dies. With several manager replicas one may go
# (that is the failover being tried); the cluster stops only once none is left.
reported_gone=" "
while true; do
  managers_left=0
  while read -r name; do
    if recorded_pid "$name" >/dev/null; then
      [[ $name != manager* ]] || managers_left=$((managers_left + 1))
      continue
    fi
    if [[ $name == manager* ]] && ((REPLICAS > 1)); then
      [[ $reported_gone == *" $name "* ]] || say "$name exited; the other replicas carry on ($LOG_DIR/$name.log)"
      reported_gone+="$name "
      continue
    fi
    fail_with_log "$name" "$name exited unexpectedly"
  done < "$PID_DIR/order"
  if [[ $WITH_MANAGER == true ]] && ((REPLICAS > 1 && managers_left == 0)); then
    fail_with_log manager "every manager replica has exited"
  fi
  sleep 2
done

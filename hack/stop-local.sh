#!/usr/bin/env bash
# Stops a local cluster started with hack/run-local.sh --detach (make run-local DETACH=1) and removes its state
# directory. Only the processes recorded in the state directory are signalled.
#
# Environment: LOCAL_CLUSTER_DIR (default .local-cluster), as given to hack/run-local.sh.
set -euo pipefail

# shellcheck source=local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/local/common.sh"

if [[ ! -d $LOCAL_CLUSTER_DIR ]]; then
  say "no local cluster state in $LOCAL_CLUSTER_DIR; nothing to stop"
  exit 0
fi
[[ -f $STATE_MARKER ]] || remove_state # refuses with a message
running=$(running_components | tr '\n' ' ')
if [[ -n $running ]]; then
  say "stopping $running"
  stop_components
fi
remove_state
say "stopped; removed $LOCAL_CLUSTER_DIR"

#!/usr/bin/env bash
# A real multi-node Ray cluster on ONE machine: a head and N worker nodes (default 2),
# each its own `ray start` (own raylet, object store, worker processes), all on
# 127.0.0.1. Use it to try `qazflow submit` / `ray job submit` against a cluster, and
# to test what a run survives when a node dies (kill one node's raylet).
#
#   bash cluster/local_cluster.sh start    # prints the dashboard address for job submit
#   bash cluster/local_cluster.sh status   # exit 0 when head + all workers are up
#   bash cluster/local_cluster.sh stop     # stops THIS cluster only (see below)
#   bash cluster/local_cluster.sh stop --all   # `ray stop --force`: every Ray process of this user
#   bash cluster/local_cluster.sh kill-node 2  # SIGKILL worker node 2's whole session (a lost machine)
#
# Environment (defaults in brackets):
#   RAY_BIN                        ray executable [ray on PATH, else <repo>/.venv/bin/ray];
#                                  its directory goes first on the nodes' PATH, so job
#                                  entrypoints find that environment's python and qazflow
#   QAZFLOW_GCS_PORT               head GCS port [6379]
#   QAZFLOW_DASHBOARD_PORT         dashboard / Jobs API port [8265]
#   QAZFLOW_CLIENT_PORT            Ray Client server port, ray://127.0.0.1:PORT [10001]
#   QAZFLOW_NODE_PORT_BASE         node i (0 = head) uses BASE+10*i .. BASE+10*i+5 for its
#                                  node manager, object manager, dashboard agent (http,
#                                  grpc), runtime-env agent, metrics export [23000]
#   QAZFLOW_WORKER_PORT_BASE       node i's worker processes use BASE+i*PER .. BASE+(i+1)*PER-1 [24000]
#   QAZFLOW_WORKER_PORTS_PER_NODE  PER above [1000]
#   QAZFLOW_NUM_WORKERS            worker nodes besides the head [2]
#   QAZFLOW_CPUS_PER_NODE          --num-cpus of every node [1]
#   QAZFLOW_OBJECT_STORE_MEMORY    --object-store-memory per node, bytes [300000000]
#   QAZFLOW_RAY_TEMP_DIR           Ray --temp-dir, shared by all nodes of the cluster
#                                  [/tmp/qazflow-ray]. At most 43 characters: Ray puts
#                                  unix sockets under it (a socket path must stay under
#                                  108 bytes), so use e.g. mkdtemp(dir="/tmp"), not
#                                  pytest's long tmp_path. Not /tmp/ray on purpose: a
#                                  plain `ray.init()` anywhere on the host would find
#                                  /tmp/ray/ray_current_cluster and join this cluster.
#   QAZFLOW_CLUSTER_STATE_DIR      pid/log files of this script [$QAZFLOW_RAY_TEMP_DIR/qazflow-cluster-$QAZFLOW_GCS_PORT]
#   QAZFLOW_START_TIMEOUT          seconds to wait, once the `ray start`s returned, for all
#                                  nodes to be alive and the dashboard to answer [120]
#   QAZFLOW_STOP_GRACE             seconds between SIGTERM and SIGKILL on stop [5]
#
# Notes
# - Ray maps --node-ip-address=127.0.0.1 to the host's primary address (it does so on
#   purpose, so that other hosts could reach the node); nodes therefore show up with that
#   IP. 127.0.0.1:$QAZFLOW_GCS_PORT still reaches the GCS, and the dashboard listens on
#   127.0.0.1 only. Do not run this on a host whose ports must stay closed.
# - Every node gets its own session (setsid), so `stop` kills exactly the process
#   sessions of this cluster's nodes (raylets, GCS, dashboard, agents, worker processes),
#   plus job driver processes whose RAY_ADDRESS points at this cluster's GCS port. Other
#   Ray instances of the same user (e.g. a test's `ray.init()`) are left alone.
#   `stop --all` runs `ray stop --force` instead, which kills EVERY Ray process of this
#   user on the machine.
# - All nodes of a cluster on one host share one temp dir: Ray keeps one session
#   directory per cluster and gives each extra node its own sockets/raylet.N in it; a
#   per-node --temp-dir is not supported.
# - RAY_AUTH_MODE=disabled is exported (Ray 2.60 enables token auth by default).
set -euo pipefail

export RAY_AUTH_MODE=disabled
export RAY_USAGE_STATS_ENABLED=0

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$SCRIPT_DIR")

GCS_PORT=${QAZFLOW_GCS_PORT:-6379}
DASH_PORT=${QAZFLOW_DASHBOARD_PORT:-8265}
CLIENT_PORT=${QAZFLOW_CLIENT_PORT:-10001}
NODE_PORT_BASE=${QAZFLOW_NODE_PORT_BASE:-23000}
WORKER_PORT_BASE=${QAZFLOW_WORKER_PORT_BASE:-24000}
WORKER_PORTS_PER_NODE=${QAZFLOW_WORKER_PORTS_PER_NODE:-1000}
NUM_WORKERS=${QAZFLOW_NUM_WORKERS:-2}
CPUS_PER_NODE=${QAZFLOW_CPUS_PER_NODE:-1}
OBJECT_STORE_MEMORY=${QAZFLOW_OBJECT_STORE_MEMORY:-300000000}
TEMP_DIR=${QAZFLOW_RAY_TEMP_DIR:-/tmp/qazflow-ray}
STATE_DIR=${QAZFLOW_CLUSTER_STATE_DIR:-$TEMP_DIR/qazflow-cluster-$GCS_PORT}
START_TIMEOUT=${QAZFLOW_START_TIMEOUT:-120}
STOP_GRACE=${QAZFLOW_STOP_GRACE:-5}
HOST=127.0.0.1
NUM_NODES=$((NUM_WORKERS + 1))
DASH_URL="http://$HOST:$DASH_PORT"

log() { printf '[local_cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in GCS_PORT DASH_PORT CLIENT_PORT NODE_PORT_BASE WORKER_PORT_BASE WORKER_PORTS_PER_NODE \
         NUM_WORKERS CPUS_PER_NODE OBJECT_STORE_MEMORY START_TIMEOUT STOP_GRACE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done

((${#TEMP_DIR} <= 43)) || die "QAZFLOW_RAY_TEMP_DIR is ${#TEMP_DIR} characters long, at most 43 work (Ray's unix socket paths under it must stay under 108 bytes): $TEMP_DIR"
[[ $TEMP_DIR == /* ]] || die "QAZFLOW_RAY_TEMP_DIR must be an absolute path: $TEMP_DIR"

resolve_ray() {
  if [[ -n ${RAY_BIN:-} ]]; then
    [[ -x $RAY_BIN ]] || die "RAY_BIN=$RAY_BIN is not executable"
  elif command -v ray >/dev/null 2>&1; then
    RAY_BIN=$(command -v ray)
  elif [[ -x $REPO_DIR/.venv/bin/ray ]]; then
    RAY_BIN=$REPO_DIR/.venv/bin/ray
  else
    die "no ray executable: set RAY_BIN, put ray on PATH, or run 'make install'"
  fi
  # Job entrypoints (`python ...`, `qazflow build ...`) inherit the nodes' PATH: put the
  # environment that holds this ray (and qazflow) first.
  PATH="$(cd "$(dirname "$RAY_BIN")" && pwd):$PATH"
  export PATH
}

# --- ports of node i (0 = head) ------------------------------------------------------
nm_port()  { echo $((NODE_PORT_BASE + 10 * $1)); }
node_args() {
  local i=$1 b=$((NODE_PORT_BASE + 10 * $1))
  local wmin=$((WORKER_PORT_BASE + i * WORKER_PORTS_PER_NODE))
  printf '%s\n' \
    --node-ip-address=$HOST --num-cpus="$CPUS_PER_NODE" \
    --object-store-memory="$OBJECT_STORE_MEMORY" --temp-dir="$TEMP_DIR" \
    --node-manager-port=$b --object-manager-port=$((b + 1)) \
    --dashboard-agent-listen-port=$((b + 2)) --dashboard-agent-grpc-port=$((b + 3)) \
    --runtime-env-agent-port=$((b + 4)) --metrics-export-port=$((b + 5)) \
    --min-worker-port=$wmin --max-worker-port=$((wmin + WORKER_PORTS_PER_NODE - 1)) \
    --disable-usage-stats
}

# --- finding this cluster's processes --------------------------------------------------
gcs_pids()    { pgrep -u "$(id -u)" -f -- "gcs_server .*--gcs_server_port=$GCS_PORT( |$)" || true; }
raylet_pid() {  # the raylet of node i of THIS cluster: its node-manager port and its GCS port
  local pid
  for pid in $(pgrep -u "$(id -u)" -f -- "raylet/raylet .*--node_manager_port=$(nm_port "$1")( |$)" || true); do
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eqx -- "--gcs-address=[^ ]+:$GCS_PORT" && { echo "$pid"; return 0; }
  done
  return 0
}
sid_of()      { ps -o sid= -p "$1" 2>/dev/null | tr -d ' '; }
port_open()   { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
dashboard_up() { curl -fsS -m 5 "$DASH_URL/api/version" >/dev/null 2>&1; }

# Alive nodes as the GCS sees them ("Active:" section of `ray status`).
alive_nodes() {
  timeout 30 "$RAY_BIN" status --address "$HOST:$GCS_PORT" 2>/dev/null \
    | awk '/^Active:/{a=1; next} /^Pending:/{a=0} a && /node_/{n++} END{print n+0}' || echo 0
}

# Job drivers (`ray job submit` entrypoints) run in their own session, started by the
# head's JobSupervisor; they are found by the environment the supervisor gives them.
# (Ray also kills a driver about 1 s after its supervisor dies; this is belt and braces.)
driver_pids() {
  local f pid env
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [[ -O $f ]] || continue
    env=$(tr '\0' '\n' <"$f" 2>/dev/null) || continue
    grep -q '^RAY_JOB_CONFIG_JSON_ENV_VAR=' <<<"$env" || continue
    grep -Eq "^RAY_ADDRESS=([a-z]+://)?[^:]+:$GCS_PORT\$" <<<"$env" && echo "$pid"
  done 2>/dev/null || true
}

# Every pid of this cluster: the whole sessions of its nodes (recorded at start or found
# now) and of its job drivers, never the caller's own session.
cluster_pids() {
  local own_sid sids=() pid sid i
  own_sid=$(sid_of $$)
  [[ -f $STATE_DIR/sids ]] && mapfile -t sids <"$STATE_DIR/sids"
  for pid in $(gcs_pids) $(for ((i = 0; i < NUM_NODES; i++)); do raylet_pid $i; done); do
    sid=$(sid_of "$pid") || continue
    [[ -n $sid ]] && sids+=("$sid")
    if [[ $sid == "$own_sid" ]]; then echo "$pid"; fi  # a node started without setsid: just it
  done
  for pid in $(driver_pids); do
    sid=$(sid_of "$pid") || continue
    [[ -n $sid ]] && sids+=("$sid")
  done
  ps -u "$(id -u)" -o pid=,sid= | awk -v own="$own_sid" -v self=$$ -v list="${sids[*]:-}" '
    BEGIN { n = split(list, s, " "); for (k = 1; k <= n; k++) if (s[k] != own) want[s[k]] = 1 }
    ($2 in want) && $1 != self { print $1 }'
}

print_addresses() {
  echo "dashboard (ray job submit --address / qazflow submit ray.address=): $DASH_URL"
  echo "GCS (export RAY_ADDRESS=$HOST:$GCS_PORT for ray status, ray.address=auto): $HOST:$GCS_PORT"
  echo "Ray Client (ray.address=ray://...):                                ray://$HOST:$CLIENT_PORT"
}

show_logs() {
  local f
  for f in "$STATE_DIR"/node-*.log; do
    [[ -f $f ]] || continue
    log "---- tail of $f"; tail -n 15 "$f" >&2 || true
  done
  log "Ray's own logs: $TEMP_DIR/session_latest/logs/ (raylet*.out/err, gcs_server.*, dashboard.*)"
}

# --- commands ---------------------------------------------------------------------------
start_node() {  # start_node i
  local i=$1 args
  mapfile -t args < <(node_args "$i")
  if ((i == 0)); then
    args+=(--head --port="$GCS_PORT" --ray-client-server-port="$CLIENT_PORT"
           --include-dashboard=true --dashboard-host="$HOST" --dashboard-port="$DASH_PORT")
  else
    args+=(--address="$HOST:$GCS_PORT")
  fi
  local p
  for ((p = $(nm_port "$i"); p <= $(nm_port "$i") + 5; p++)); do
    if port_open "$p"; then
      log "port $p (node $i) is already in use: give each cluster on this host its own QAZFLOW_NODE_PORT_BASE and QAZFLOW_WORKER_PORT_BASE"
      return 1
    fi
  done
  log "starting node $i ($([[ $i == 0 ]] && echo head || echo worker), node-manager port $(nm_port "$i"))"
  # setsid: the node's daemons form their own session, so `stop` can end exactly them.
  if ! setsid --wait "$RAY_BIN" start "${args[@]}" </dev/null >"$STATE_DIR/node-$i.log" 2>&1; then
    log "ray start failed for node $i"
    return 1
  fi
  local pid
  if ((i == 0)); then pid=$(gcs_pids | head -n1); else pid=$(raylet_pid "$i"); fi
  [[ -n $pid ]] && sid_of "$pid" >>"$STATE_DIR/sids"
  return 0
}

cmd_start() {
  resolve_ray
  mkdir -p "$STATE_DIR"
  local i need_head=0 started_any=0
  if [[ -z $(gcs_pids) ]]; then
    need_head=1
    # Leftovers of a crashed run of this cluster (workers without a head): clear them.
    if [[ -n $(cluster_pids) ]]; then log "found stale processes of this cluster; stopping them"; do_stop; mkdir -p "$STATE_DIR"; fi
    for p in "$GCS_PORT" "$DASH_PORT" "$CLIENT_PORT"; do
      port_open "$p" && die "port $p on $HOST is already in use by another process (set QAZFLOW_GCS_PORT / QAZFLOW_DASHBOARD_PORT / QAZFLOW_CLIENT_PORT)"
    done
    : >"$STATE_DIR/sids"
    rm -f "$STATE_DIR"/node-*.log
  fi
  if ((need_head)); then
    trap 'log "start failed; stopping what was started"; show_logs; do_stop >/dev/null 2>&1 || true' ERR
  else
    trap 'log "start failed; the cluster was already running before, left as it is (stop it with: $0 stop)"; show_logs' ERR
  fi
  if ((need_head)); then start_node 0; started_any=1; fi
  for ((i = 1; i <= NUM_WORKERS; i++)); do
    if [[ -z $(raylet_pid "$i") ]]; then start_node "$i"; started_any=1; fi
  done
  ((started_any)) || log "cluster already running"

  local deadline=$((SECONDS + START_TIMEOUT)) n=0
  while :; do
    n=$(alive_nodes)
    if ((n >= NUM_NODES)) && dashboard_up; then break; fi
    if ((SECONDS >= deadline)); then
      log "timed out after ${START_TIMEOUT}s: $n/$NUM_NODES nodes alive, dashboard $(dashboard_up && echo up || echo 'not answering') at $DASH_URL/api/version"
      ((need_head)) || log "(a head was already running on GCS port $GCS_PORT: was it started with other QAZFLOW_* settings, e.g. another QAZFLOW_DASHBOARD_PORT or QAZFLOW_NUM_WORKERS?)"
      false
    fi
    sleep 1
  done
  trap - ERR
  log "$n nodes alive; dashboard answers at $DASH_URL/api/version"
  print_addresses
}

do_stop() {
  local pids alive t
  mapfile -t pids < <(cluster_pids | sort -un)
  if ((${#pids[@]} == 0)); then
    log "no processes of this cluster (GCS port $GCS_PORT) are running"
  else
    log "stopping ${#pids[@]} processes (SIGTERM, SIGKILL after ${STOP_GRACE}s)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((t = 0; t < STOP_GRACE * 2; t++)); do
      mapfile -t alive < <(ps -o pid= -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null | tr -d ' ' || true)
      ((${#alive[@]} == 0)) && break
      sleep 0.5
    done
    mapfile -t alive < <(ps -o pid= -p "$(IFS=,; echo "${pids[*]}")" 2>/dev/null | tr -d ' ' || true)
    ((${#alive[@]})) && kill -KILL "${alive[@]}" 2>/dev/null || true
    # Sessions may have spawned new processes meanwhile (e.g. workers restarting).
    mapfile -t pids < <(cluster_pids | sort -un)
    ((${#pids[@]})) && kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  if [[ -f $TEMP_DIR/ray_current_cluster ]] && grep -q ":$GCS_PORT\$" "$TEMP_DIR/ray_current_cluster"; then
    rm -f "$TEMP_DIR/ray_current_cluster"
  fi
  rm -f "$STATE_DIR/sids"
}

cmd_stop() {
  if [[ ${1:-} == --all ]]; then
    resolve_ray
    log "ray stop --force: stops EVERY Ray process of user $(id -un) on this machine"
    "$RAY_BIN" stop --force
    rm -f "$STATE_DIR/sids"
    return 0
  fi
  do_stop
  local left
  sleep 0.5
  left=$(cluster_pids | wc -l)
  ((left == 0)) || die "$left processes of this cluster are still running"
  log "stopped"
}

cmd_status() {
  resolve_ray
  if [[ -z $(gcs_pids) ]]; then echo "not running (no GCS on port $GCS_PORT)"; return 3; fi
  local n
  n=$(alive_nodes)
  echo "nodes alive: $n/$NUM_NODES"
  echo "dashboard: $(dashboard_up && echo up || echo down)"
  print_addresses
  timeout 30 "$RAY_BIN" status --address "$HOST:$GCS_PORT" 2>/dev/null || true
  ((n >= NUM_NODES)) && dashboard_up
}

# A node lost as a machine is lost: SIGKILL to its whole session (raylet, object store,
# agents, worker processes), no chance to say goodbye. The head (0) holds the GCS: losing it
# is losing the cluster, so only worker nodes can be killed.
cmd_kill_node() {
  local i=${1:-} pid sid pids
  [[ $i =~ ^[0-9]+$ ]] && ((i >= 1 && i <= NUM_WORKERS)) || die "kill-node: give a worker node number, 1..$NUM_WORKERS"
  pid=$(raylet_pid "$i") || true
  [[ -n $pid ]] || die "kill-node: node $i is not running"
  sid=$(sid_of "$pid")
  [[ -n $sid && $sid != "$(sid_of $$)" ]] || die "kill-node: node $i has no session of its own"
  mapfile -t pids < <(ps -u "$(id -u)" -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }')
  kill -KILL "${pids[@]}" 2>/dev/null || true
  log "killed node $i: ${#pids[@]} processes of session $sid"
}

case ${1:-} in
  start)  cmd_start ;;
  stop)   shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  kill-node) shift; cmd_kill_node "$@" ;;
  *) echo "usage: $0 start|stop [--all]|status|kill-node N   (settings: see the top of this file)" >&2; exit 2 ;;
esac

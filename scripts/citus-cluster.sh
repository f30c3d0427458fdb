# A Citus cluster on one machine: a coordinator and N workers, each a throwaway cluster of
# scripts/cluster.sh with `shared_preload_libraries = 'citus'`, citus and taxi_loader created in
# database postgres, the workers added to the coordinator. Sourced, not executed; needs cluster.sh.
# Used by scripts/disttest; docs/distributed.md sets up a real one.
#
#   citus_cluster_start PREFIX PG_CONFIG PORT WORKERS [settings…]
#       nodes PREFIX-coord (PORT), PREFIX-w1 (PORT+1) … ; exports PGHOST/PGPORT of the coordinator
#   citus_cluster_stop PREFIX PG_CONFIG
#   citus_node_dir NAME   the node's directory (its Unix socket, data/, server.log)

citus_node_dir() { echo "$TAXI_HOME/clusters/$1"; }

citus_cluster_start() {
  local prefix=$1 pg_config=$2 port=$3 workers=$4
  shift 4
  local i name
  sql() { "$("$pg_config" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "$1" >/dev/null; }
  [ -f "$("$pg_config" --pkglibdir)/citus.so" ] \
    || { echo "citus is not installed into $("$pg_config" --bindir)/.. (scripts/setup --citus builds it)" >&2; return 1; }
  citus_cluster_stop "$prefix" "$pg_config"
  for i in $(seq 0 "$workers"); do
    if [ "$i" = 0 ]; then name=$prefix-coord; else name=$prefix-w$i; fi
    # Nodes reach each other over their Unix sockets (a directory as host); max_prepared_transactions
    # for Citus' two-phase commit across nodes.
    cluster_start "$name" "$pg_config" $((port + i)) "shared_preload_libraries = 'citus'" \
      "max_prepared_transactions = 100" "citus.log_remote_commands = off" "$@" || return 1
    sql "CREATE EXTENSION citus" || return 1
  done
  # cluster_start exported the last node's PGHOST/PGPORT: the coordinator's from here on.
  export PGHOST=$(citus_node_dir "$prefix-coord") PGPORT=$port PGUSER=postgres
  sql "SELECT citus_set_coordinator_host('$PGHOST', $port)" || return 1
  for i in $(seq 1 "$workers"); do
    sql "SELECT citus_add_node('$(citus_node_dir "$prefix-w$i")', $((port + i)))" || return 1
  done
  # The extension on the coordinator: Citus creates it on every node.
  sql "CREATE EXTENSION taxi_loader"
}

citus_cluster_stop() {
  local prefix=$1 pg_config=$2 dir
  for dir in "$TAXI_HOME/clusters/$prefix"-*; do
    [ -d "$dir" ] && cluster_stop "$(basename "$dir")" "$pg_config"
  done
  return 0
}

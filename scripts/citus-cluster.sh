# A Citus cluster on one machine: a coordinator and N workers, each a throwaway cluster of
# scripts/cluster.sh with `shared_preload_libraries = 'citus'`, citus and taxi_loader created in
# database postgres, the workers added to the coordinator. Sourced, not executed; needs cluster.sh.
# Used by scripts/disttest and `scripts/bench --distributed`; docs/distributed.md sets up a real one.
#
#   citus_cluster_start PREFIX PG_CONFIG PORT WORKERS [settings…]
#       nodes PREFIX-coord (PORT), PREFIX-w1 (PORT+1) … ; exports PGHOST/PGPORT of the coordinator
#       and CITUS_NODES ("name:port …", coordinator first)
#   citus_cluster_stop PREFIX PG_CONFIG
#   citus_node_dir NAME   the node's directory (its Unix socket, data/, server.log)

citus_node_dir() { echo "$TAXI_HOME/clusters/$1"; }

citus_cluster_start() {
  local prefix=$1 pg_config=$2 port=$3 workers=$4
  shift 4
  local bindir i name nodes=""
  bindir=$("$pg_config" --bindir)
  [ -f "$("$pg_config" --pkglibdir)/citus.so" ] \
    || { echo "citus is not installed into $("$pg_config" --bindir)/.. (scripts/setup builds it)" >&2; return 1; }
  citus_cluster_stop "$prefix" "$pg_config"
  for i in $(seq 0 "$workers"); do
    if [ "$i" = 0 ]; then name=$prefix-coord; else name=$prefix-w$i; fi
    # Nodes reach each other over their Unix sockets (a directory as host); max_prepared_transactions
    # for Citus' two-phase commit across nodes.
    cluster_start "$name" "$pg_config" $((port + i)) "shared_preload_libraries = 'citus'" \
      "max_prepared_transactions = 100" "citus.log_remote_commands = off" "$@" || return 1
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
      -c "CREATE EXTENSION citus" >/dev/null || return 1
    nodes="$nodes $name:$((port + i))"
  done
  export CITUS_NODES=${nodes# }
  export PGHOST=$(citus_node_dir "$prefix-coord") PGPORT=$port PGUSER=postgres
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "SELECT citus_set_coordinator_host('$PGHOST', $port)" >/dev/null || return 1
  for i in $(seq 1 "$workers"); do
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
      -c "SELECT citus_add_node('$(citus_node_dir "$prefix-w$i")', $((port + i)))" >/dev/null || return 1
  done
  # The extension on the coordinator: Citus creates it on every node.
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION taxi_loader" >/dev/null
}

citus_cluster_stop() {
  local prefix=$1 pg_config=$2 dir
  for dir in "$TAXI_HOME/clusters/$prefix"-*; do
    [ -d "$dir" ] && cluster_stop "$(basename "$dir")" "$pg_config"
  done
  return 0
}

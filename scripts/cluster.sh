# Throwaway PostgreSQL clusters for the demo and the SQL-level tests. Sourced, not executed.
# PostgreSQL refuses to run as root, so every server command runs as the `postgres` user.

# cluster_start NAME PG_CONFIG PORT [postgresql.conf settings…]: a fresh cluster in
# $TAXI_HOME/clusters/NAME, listening only on a Unix socket in that directory. Exports PGHOST,
# PGPORT and PGUSER for psql.
cluster_start() {
  local name=$1 pg_config=$2 port=$3
  shift 3
  local dir=$TAXI_HOME/clusters/$name bindir
  bindir=$("$pg_config" --bindir)
  cluster_stop "$name" "$pg_config"
  rm -rf "$dir"
  install -d -o postgres -g postgres "$dir"
  sudo -u postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; return 1; }
  {
    echo "listen_addresses = ''"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    for setting in "$@"; do echo "$setting"; done
  } >>"$dir/data/postgresql.conf"
  sudo -u postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null \
    || { cat "$dir/server.log"; return 1; }
  export PGHOST=$dir PGPORT=$port PGUSER=postgres
}

cluster_stop() {
  local dir=$TAXI_HOME/clusters/$1 bindir
  bindir=$("$2" --bindir)
  if [ -f "$dir/data/postmaster.pid" ]; then
    sudo -u postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# A directory the server's postgres user can read, holding the test fixtures.
publish_fixtures() {
  local src=$1 dest=$2
  install -d -m 755 "$dest"
  install -m 644 "$src"/* "$dest"/
}

# rows_digest DB TABLE: a query giving "count:md5" of every stored value of TABLE but load_id, in
# row_hash order. A row's text: to_jsonb of each row took six times as long (43 s for 1M trips).
rows_digest() {
  local cols
  cols=$(psql -X -At -d "$1" -c "SELECT string_agg('t.' || quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$2'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'load_id'")
  echo "SELECT count(*) || ':' || md5(string_agg(ROW($cols)::text, '|' ORDER BY row_hash)) FROM $2 t"
}

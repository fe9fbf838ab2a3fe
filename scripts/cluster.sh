#!/usr/bin/env bash
# A cluster gallery on this machine (issue 11): PostgreSQL with its data in DIR, and SILOS Orleans silos.
#   scripts/cluster.sh up DIR [SILOS]   start (default 3 silos); the last line printed is FACENET_CLUSTER=<connection>
#   scripts/cluster.sh down DIR         stop the silos (DIR/silo-N.pid) and PostgreSQL
# Everything listens on 127.0.0.1 only. 'up' on a DIR that was 'down' starts the same data again.
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the system user facenetpg (created if missing),
# which owns DIR/pgdata. Ports: PostgreSQL FACENET_PG_PORT (default: the first free from 55432), silo N listens on
# FACENET_SILO_PORT+N and FACENET_GATEWAY_PORT+N (defaults: the first free ranges from 11110 and 30000).
# The silos run FACENET (default: the built CLI, dotnet src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll);
# FACENET_SHARDS=N gives them --shards N (the shard count of a new gallery; refused by one created with another);
# FACENET_PG_OPTIONS adds PostgreSQL settings (e.g. "-c max_wal_size=4GB" for a bulk load).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
pg_user=facenetpg
db_user=facenet
db_name=facenet

die() { echo "cluster.sh: $*" >&2; exit 2; }
usage() { die "usage: cluster.sh up DIR [SILOS] | down DIR"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
# A base B such that B+1..B+n are all free.
free_range() {
  local base=$1 n=$2 i ok
  while true; do
    ok=1
    for ((i = 1; i <= n; i++)); do port_free $((base + i)) || { ok=0; break; }; done
    [ "$ok" = 1 ] && { echo "$base"; return; }
    base=$((base + n))
  done
}

# Runs a PostgreSQL program as a non-root user (PostgreSQL refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid="$pg_user" --regid="$pg_user" --init-groups --reset-env -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

pg_bin() {
  local name=$1 d
  for d in /usr/local/bin /usr/lib/postgresql/*/bin /usr/bin; do
    [ -x "$d/$name" ] && { echo "$d/$name"; return; }
  done
  die "$name not found: install PostgreSQL (Debian: apt-get install postgresql)"
}

facenet_cmd() {
  if [ -n "${FACENET:-}" ]; then echo "$FACENET"; return; fi
  local dll="$repo/src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll"
  [ -f "$dll" ] || die "$dll not found: build first (dotnet build src/FaceNetSharp.Cli -c Release), or set FACENET"
  echo "dotnet $dll"
}

up() {
  local dir=$1 silos=${2:-3}
  [[ "$silos" =~ ^[1-9][0-9]*$ ]] || die "SILOS must be a positive number (got '$silos')"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  for f in "$dir"/silo-*.pid; do
    [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && die "$dir already runs silo $(basename "$f" .pid) (pid $(cat "$f")): 'cluster.sh down $dir' first"
  done
  local initdb pg_ctl psql
  initdb=$(pg_bin initdb); pg_ctl=$(pg_bin pg_ctl); psql=$(pg_bin psql)
  if [ "$(id -u)" = 0 ] && ! id "$pg_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user" || die "could not create the user $pg_user for PostgreSQL"
  fi
  mkdir -p "$dir/pgdata" "$dir/pgsocket"
  touch "$dir/postgres.log"
  if [ "$(id -u)" = 0 ]; then
    chown "$pg_user:$pg_user" "$dir/pgdata" "$dir/pgsocket" "$dir/postgres.log"
    chmod 700 "$dir/pgdata"
  fi
  as_pg test -x "$dir" || die "$pg_user cannot enter $dir: choose a DIR whose parent folders others may enter (e.g. under /tmp or /srv)"
  if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
    as_pg "$initdb" -D "$dir/pgdata" -U "$db_user" --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || die "initdb failed, see $dir/initdb.log"
  fi
  local pg_port=${FACENET_PG_PORT:-$(free_port 55432)}
  # listen on 127.0.0.1 only, trust authentication (initdb --auth=trust): a cluster for trying things on one machine
  as_pg "$pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $pg_port -k $dir/pgsocket -c listen_addresses=127.0.0.1 -c max_connections=200 ${FACENET_PG_OPTIONS:-}" start >/dev/null \
    || die "PostgreSQL did not start, see $dir/postgres.log"
  echo "$pg_port" >"$dir/postgres.port"
  "$psql" -h 127.0.0.1 -p "$pg_port" -U "$db_user" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1 \
    || "$psql" -h 127.0.0.1 -p "$pg_port" -U "$db_user" -d postgres -qc "CREATE DATABASE $db_name" >/dev/null
  local conn="Host=127.0.0.1;Port=$pg_port;Username=$db_user;Database=$db_name"

  local facenet silo_base gateway_base i
  facenet=$(facenet_cmd)
  silo_base=${FACENET_SILO_PORT:-$(free_range 11110 "$silos")}
  gateway_base=${FACENET_GATEWAY_PORT:-$(free_range 30000 "$silos")}
  for ((i = 1; i <= silos; i++)); do
    # setsid: the silo outlives this script and the shell that ran it
    setsid $facenet silo --postgres "$conn" --port $((silo_base + i)) --gateway-port $((gateway_base + i)) ${FACENET_SHARDS:+--shards "$FACENET_SHARDS"} \
      >"$dir/silo-$i.log" 2>&1 </dev/null &
    echo $! >"$dir/silo-$i.pid"
    echo "$((silo_base + i))" >"$dir/silo-$i.port"
    echo "$((gateway_base + i))" >"$dir/silo-$i.gateway"
  done
  # Ready when every silo has printed its "silo listening on" line (it has joined the cluster); a silo that exits
  # (PostgreSQL unreachable, a --shards the gallery refuses) fails 'up' with its last lines.
  local deadline=$((SECONDS + ${FACENET_CLUSTER_START_TIMEOUT:-120}))
  for ((i = 1; i <= silos; i++)); do
    until grep -q " silo listening on " "$dir/silo-$i.log" 2>/dev/null; do
      kill -0 "$(cat "$dir/silo-$i.pid")" 2>/dev/null || { tail -5 "$dir/silo-$i.log" >&2; die "silo $i exited, see $dir/silo-$i.log"; }
      [ $SECONDS -lt $deadline ] || die "silo $i did not join within ${FACENET_CLUSTER_START_TIMEOUT:-120} s, see $dir/silo-$i.log"
      sleep 0.5
    done
  done
  echo "$conn" >"$dir/cluster.conn"
  echo "PostgreSQL on 127.0.0.1:$pg_port (data $dir/pgdata), $silos silo(s): gateways $((gateway_base + 1))-$((gateway_base + silos)), logs $dir/*.log"
  echo "FACENET_CLUSTER=$conn"
}

down() {
  local dir=$1 f pid n
  [ -d "$dir" ] || die "$dir does not exist"
  dir="$(cd "$dir" && pwd)"
  for f in "$dir"/silo-*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for f in "$dir"/silo-*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # a silo leaves the cluster cleanly within 20 s of SIGTERM; after 30 s it is killed
    for ((n = 0; n < 60; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f" "${f%.pid}.port" "${f%.pid}.gateway"
  done
  if [ -f "$dir/pgdata/postmaster.pid" ]; then
    as_pg "$(pg_bin pg_ctl)" -D "$dir/pgdata" -m fast -w -t 60 stop >/dev/null || die "PostgreSQL did not stop, see $dir/postgres.log"
  fi
  echo "stopped the cluster in $dir"
}

[ $# -ge 2 ] || usage
case "$1" in
  up) [ $# -le 3 ] || usage; up "$2" "${3:-3}" ;;
  down) [ $# -eq 2 ] || usage; down "$2" ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# A PostgreSQL cluster of Cabinet's own, reachable only through a Unix socket
# inside its directory (no TCP port, so it never collides with another one).
#
#   pg.sh start DIR     create the cluster in DIR if needed, and start it
#   pg.sh stop DIR [MODE]  stop it: fast shutdown, or MODE immediate (as a
#                       crash would: no checkpoint, recovery at the next start)
#   pg.sh url DIR DB    print the libpq URL of database DB in it
#   pg.sh createdb DIR DB [TEMPLATE]
#
# initdb refuses to run as root, so as root the cluster belongs to the
# postgres user and DIR must be outside any directory that user cannot read.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url|createdb DIR ...}
dir=${2:?usage: pg.sh $cmd DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    as_owner=(runuser -u postgres --)
fi

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -U "$owner" "$@"; }

case $cmd in
start)
    if [ ! -d "$dir/data" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
        chmod 700 "$dir"
        "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U "$owner" \
            -E UTF8 --locale=C.UTF-8 --nosync >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
CONF
        [ "${PG_FAST:-}" = 1 ] && cat >>"$dir/data/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    if ! "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
            { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    ;;
stop)
    mode=${3:-fast}
    case $mode in fast | immediate) ;; *) echo "pg.sh: stop takes fast or immediate" >&2; exit 2 ;; esac
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
    ;;
url)
    db=${3:?usage: pg.sh url DIR DB}
    echo "postgresql:///$db?host=$dir&user=$owner"
    ;;
createdb)
    db=${3:?usage: pg.sh createdb DIR DB [TEMPLATE]}
    exists=$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
    if [ -z "$exists" ]; then
        if [ -n "${4:-}" ]; then
            psql_ -d postgres -c "CREATE DATABASE \"$db\" TEMPLATE \"$4\""
        else
            psql_ -d postgres -c "CREATE DATABASE \"$db\""
        fi
    fi
    ;;
*)
    echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac

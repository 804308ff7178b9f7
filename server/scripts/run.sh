#!/usr/bin/env bash
# `make run`: a local cluster in STATE_DIR (reused on later runs), the
# migrations, a demo on the first run, then the server in the foreground.
#   run.sh STATE_DIR LISTEN
set -euo pipefail

state=${1:?usage: run.sh STATE_DIR LISTEN}
listen=${2:?usage: run.sh STATE_DIR LISTEN}
repo=$(cd "$(dirname "$0")/../.." && pwd)
pg="$repo/server/scripts/pg.sh"

"$pg" start "$state"
"$pg" createdb "$state" cabinet
export CABINET_DATABASE_URL=$("$pg" url "$state" cabinet)
export CABINET_SQL_DIR="$repo/sql"
export CABINET_WEB_ROOT="$repo/web"
export CABINET_SERVER_KEY_FILE="$state/server.key"
export CABINET_LISTEN="$listen"

"$repo/build/cabinet" migrate

fresh=$(psql -X -At "$CABINET_DATABASE_URL" -c 'SELECT count(*) = 0 FROM users')

"$repo/build/cabinet" serve &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 0' INT TERM

for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://$listen/healthz" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { echo "cabinet did not start (is $listen in use?)" >&2; exit 1; }
    sleep 0.1
done

if [ "$fresh" = t ]; then
    bash "$repo/server/scripts/demo.sh" "http://$listen" ||
        echo "the demo could not be seeded; the server runs without it" >&2
fi

cat <<MSG

Cabinet is serving on http://$listen  (Ctrl-C stops it; the database stays
in $state and keeps its data).

Demo logins (password for each: cabinet-demo):
  admin@cabinet.demo     admin
  manager@cabinet.demo   manager
  cab1@cabinet.demo      cab       (also cab2, cab3)
  ecab@cabinet.demo      ecab
  dev@cabinet.demo       requester

MSG
wait "$server"

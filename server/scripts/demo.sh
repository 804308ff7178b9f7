#!/usr/bin/env bash
# Seeds the demo through the API itself, so that every record, hash and
# audit entry is made the way users make them:
#   demo.sh BASE_URL
# Accounts are made with `cabinet user add` (CABINET_DATABASE_URL set).
set -euo pipefail

base=${1:?usage: demo.sh BASE_URL}
repo=$(cd "$(dirname "$0")/../.." && pwd)
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
export CABINET_PASSWORD=cabinet-demo

add() { "$repo/build/cabinet" user add "$1" --name "$2" --roles "$3" >/dev/null; }
add admin@cabinet.demo "Ada Admin" admin
add manager@cabinet.demo "Max Manager" manager
add cab1@cabinet.demo "Carla Cab" cab
add cab2@cabinet.demo "Chen Cab" cab
add cab3@cabinet.demo "Cleo Cab" cab
add ecab@cabinet.demo "Emil Ecab" ecab
add dev@cabinet.demo "Dana Developer" ""

for _ in $(seq 1 50); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done

csrf=
login() {
    : >"$jar"
    csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$CABINET_PASSWORD\"}" "$base/api/v1/session" |
        sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')
}
post() {
    curl -fsS -o /dev/null -b "$jar" -H "X-CSRF-Token: $csrf" \
        -H 'Content-Type: application/json' -d "$2" "$base/api/v1/$1"
}

login admin@cabinet.demo
post services '{"name":"postgres-main","title":"Main PostgreSQL cluster","tier":1,"owner":"Platform team"}'
post services '{"name":"auth","title":"Sign-in service","tier":1,"owner":"Identity team","depends_on":["postgres-main"]}'
post services '{"name":"payments","title":"Payments","tier":1,"owner":"Payments team","depends_on":["auth","postgres-main"]}'
post services '{"name":"api-gateway","title":"Public API gateway","tier":2,"owner":"Platform team","depends_on":["auth"]}'
post services '{"name":"web-frontend","title":"Citizen-facing website","tier":2,"owner":"Web team","depends_on":["api-gateway"]}'
post services '{"name":"notifications","title":"E-mail and SMS notifications","tier":3,"owner":"Web team","depends_on":["api-gateway"]}'
post services '{"name":"search","title":"Search","tier":3,"owner":"Web team","depends_on":["postgres-main"]}'
post services '{"name":"catalogue","title":"Service catalogue","tier":3,"owner":"Web team","depends_on":["search"]}'
post services '{"name":"reporting","title":"Internal reporting","tier":4,"owner":"Data team","depends_on":["postgres-main"]}'

# search and catalogue feed each other: the map may have cycles
curl -fsS -o /dev/null -X PATCH -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"depends_on":["postgres-main","catalogue"]}' "$base/api/v1/services/search"

day() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
# CHG-1 … CHG-4 below are the demo's first changes: the database is new
login dev@cabinet.demo
post changes "{\"title\":\"Upgrade PostgreSQL 15.8 to 15.10\",\"model\":\"normal\",
  \"description\":\"Minor version upgrade of the main cluster with a switchover.\",
  \"services\":[\"postgres-main\"],\"business_impact\":\"high\",
  \"window\":{\"start\":\"$(day 'next saturday 06:00')\",\"end\":\"$(day 'next saturday 08:00')\"},
  \"implementation_plan\":\"Upgrade the standby, switch over, upgrade the old primary.\",
  \"backout_plan\":\"Switch back to the old primary, which keeps 15.8 until the end.\",
  \"test_plan\":\"Smoke tests of sign-in and payments after the switchover.\"}"
post changes "{\"title\":\"Rotate the sign-in service's signing keys\",\"model\":\"standard\",
  \"services\":[\"auth\"],\"business_impact\":\"low\",
  \"window\":{\"start\":\"$(day 'tomorrow 14:00')\",\"end\":\"$(day 'tomorrow 14:30')\"},
  \"implementation_plan\":\"Run the documented key rotation.\",
  \"backout_plan\":\"Restore the previous key set.\",\"test_plan\":\"Sign in on staging and live.\"}"
post changes "{\"title\":\"New search ranking\",\"model\":\"normal\",
  \"services\":[\"search\"],\"business_impact\":\"medium\",
  \"window\":{\"start\":\"$(day 'next tuesday 10:00')\",\"end\":\"$(day 'next tuesday 11:00')\"},
  \"implementation_plan\":\"Deploy release 4.2 behind a flag, then turn it on.\"}"
post changes '{"title":"Tidy up old reporting views","model":"normal","services":["reporting"]}'

# two of them go to the CAB: the upgrade and the ranking change
submit() {
    curl -fsS -o /dev/null -X POST -b "$jar" -H "X-CSRF-Token: $csrf" "$base/api/v1/changes/$1/submit"
}
submit CHG-1
submit CHG-3

login manager@cabinet.demo
post freezes "{\"name\":\"Month-end payments run\",\"hard\":true,
  \"reason\":\"Payments settle at month end: no changes to payments or what it depends on.\",
  \"services\":[\"payments\",\"auth\",\"postgres-main\"],
  \"window\":{\"start\":\"$(day 'next month' | sed 's/-[0-9][0-9]T.*/-01T00:00:00Z/')\",
              \"end\":\"$(day 'next month' | sed 's/-[0-9][0-9]T.*/-03T00:00:00Z/')\"}}"
echo "demo seeded: 9 services, 4 changes (2 awaiting approval), a freeze, 7 accounts"

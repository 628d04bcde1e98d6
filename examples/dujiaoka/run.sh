#!/usr/bin/env bash
# Runs a Standin node beside a dujiaoka database: the node (libp2p + HTTP) and the dujiaoka adapter
# (bridge + callback host), stopping both on Ctrl-C. Run from anywhere; see README.md first.
#   DUJIAOKA_DB_PASSWORD=… examples/dujiaoka/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="$here/shop"
# This clone's CLI, run directly: never npx, which may fetch a registry package named standin, and
# whose wrapper process, killed below, would leave the node running.
standin="$root/bin/standin.js"
: "${DUJIAOKA_DB_PASSWORD:?set DUJIAOKA_DB_PASSWORD to the password of the standin database user}"
if [ ! -f "$data/config.json" ]; then
  # The callback URL is where the adapter serves the node's callbacks (dujiaoka.json "callback").
  "$standin" init -d "$data" -n "${SHOP_NAME:-My dujiaoka shop}" \
    --p2p-port 4001 --http-port 8080 --callback-url http://127.0.0.1:9300
fi
cd "$root"
"$standin" run -d "$data" &
node_pid=$!
node --import tsx adapters/dujiaoka/main.ts "$here/dujiaoka.json" &
adapter_pid=$!
trap 'kill "$adapter_pid" "$node_pid" 2>/dev/null; wait' INT TERM
wait -n "$node_pid" "$adapter_pid"
kill "$adapter_pid" "$node_pid" 2>/dev/null || true
wait

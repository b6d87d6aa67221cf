#!/usr/bin/env bash
# Runs the README's run command (the server binary) on a free port, checks /healthz, runs the
# quickstart example against it, and stops the server with SIGTERM (it must exit cleanly).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p oxim-server -p oxim-tests --examples --bins
data=$(mktemp -d)
log="$data/server.log"
target/debug/oxim-server --listen 127.0.0.1:0 --data-dir "$data/server" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
addr=$(grep -m1 "listening on" "$log" | awk '{print $NF}')
health=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://$addr/healthz').read().decode())")
echo "healthz: $health"
echo "$health" | grep -q '"status":"ok"'
target/debug/examples/quickstart "ws://$addr"
kill -TERM $pid
wait $pid
grep -q "oxim-server stopped" "$log"
echo "server stopped cleanly"

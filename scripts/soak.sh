#!/usr/bin/env bash
# The soak run: every kind of abusive client at once against one oxim-server (slow reader,
# pipelined flood, message flooder over the per-user rate, session spam, slow-loris uploads,
# oversized frames, sockets that never log in) while well-behaved clients send messages and
# upload files. Prints the server's resident memory and the well-behaved clients' latency every
# few seconds, then a summary; fails if a well-behaved message failed or the server died.
#
#   scripts/soak.sh [SECONDS]      release build, 180 s by default
#   scripts/soak.sh --smoke        debug build, 8 s: only checks that it runs (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--smoke" ]; then
  cargo build -q -p oxim-server -p oxim-bench
  exec target/debug/oxim-bench soak 8
fi
cargo build -q --release -p oxim-server -p oxim-bench
exec target/release/oxim-bench soak "${1:-180}"

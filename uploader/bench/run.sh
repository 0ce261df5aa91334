#!/usr/bin/env bash
# run.sh is what `make bench` runs: it builds the benchmark harness and starts it from the
# repository root. BENCH_QUICK=1 selects the quick mode (tiny sets, one repetition, results in
# .bench/quick/ instead of uploader/bench/). Arguments are passed to benchrun (-h lists them).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .bench/bin
go build -o .bench/bin/benchrun ./uploader/bench/cmd/benchrun
exec .bench/bin/benchrun "$@"

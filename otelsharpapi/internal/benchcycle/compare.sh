#!/usr/bin/env bash
# compare.sh times one dispatch and webhook-awaited wait four ways and
# prints the medians and their ratios to the core before the seam:
#
#   preseam  the core at BASE (default 37b2e27: main as the observation
#            seam was merged with it, so the core without the seam): BenchmarkCore of this package, built
#            against a worktree of BASE through a copy of go.mod (-modfile)
#            whose replace points there
#   off      this tree, no observer (the core's default: a nil check)
#   noop     this tree, otelsharpapi on OpenTelemetry's no-op providers
#   sdk      this tree, otelsharpapi on the SDK, every span sampled and
#            recorded, every metric aggregated, nothing exported
#
# Each case runs twice: "memory", the job's cycle with no network (the
# SDK's own cost, the worst case for a ratio), and "loopback", the same over
# loopback TCP as a service runs it. The runs alternate (one of each per
# round, COUNT rounds) so that a machine's drift weighs on all alike;
# BENCH_OUT=file keeps the raw lines; BENCHTIME (default 3000x) is each
# case's -benchtime in a round.
#
#   otelsharpapi/internal/benchcycle/compare.sh [COUNT] [BASE]
set -euo pipefail
count=${1:-10}
base=${2:-37b2e27}
benchtime=${BENCHTIME:-3000x}
mod="$(cd "$(dirname "$0")/../.." && pwd)"   # the otelsharpapi module
repo="$(cd "$mod/.." && pwd)"
tmp=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$tmp/core" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git -C "$repo" worktree add -q --detach "$tmp/core" "$base"
sed "s#^replace github.com/sharpapi-go/sharpapi => \.\./\$#replace github.com/sharpapi-go/sharpapi => $tmp/core#" "$mod/go.mod" >"$tmp/preseam.mod"
cp "$mod/go.sum" "$tmp/preseam.sum"
grep -q "=> $tmp/core" "$tmp/preseam.mod" || { echo "compare.sh: no replace of the root module in go.mod" >&2; exit 1; }
out="$tmp/bench.txt"
cd "$mod"
go version
for i in $(seq "$count"); do
  go test -modfile="$tmp/preseam.mod" -run '^$' -bench '^BenchmarkCore$' -benchtime="$benchtime" ./internal/benchcycle |
    sed -n 's/^BenchmarkCore\/\([a-z]*\)-[0-9]*/BenchmarkJob\/\1\/preseam/p' >>"$out"
  go test -run '^$' -bench '^BenchmarkJob$' -benchtime="$benchtime" . | sed -n 's/^\(BenchmarkJob\/[a-z]*\/[a-z]*\)-[0-9]*/\1/p' >>"$out"
done
cp "$out" "${BENCH_OUT:-/dev/null}"
awk '
  { t[$1] = t[$1] " " $3; b[$1] = $5; a[$1] = $7 }
  function median(s,   n, v, i, j, x) {
    n = split(s, v, " ")
    for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    printf "%-31s %12s %10s %10s %10s %10s\n", "case", "median ns/op", "vs preseam", "vs off", "B/op", "allocs/op"
    split("memory loopback", cycles, " ")
    split("preseam off noop sdk", order, " ")
    for (c = 1; c <= 2; c++) {
      base = median(t["BenchmarkJob/" cycles[c] "/preseam"])
      off = median(t["BenchmarkJob/" cycles[c] "/off"])
      for (k = 1; k <= 4; k++) {
        name = "BenchmarkJob/" cycles[c] "/" order[k]
        m = median(t[name])
        printf "%-31s %12.0f %9.2fx %9.2fx %10s %10s\n", name, m, m / base, m / off, b[name], a[name]
      }
    }
  }' "$out"

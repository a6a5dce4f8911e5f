#!/usr/bin/env bash
# Side-by-side engine throughput: this checkout against another git ref, same bench source, runs
# alternating so both see the same machine load. Usage: bench/engine-compare.sh [ref] [rounds]
# (default: HEAD, 5 rounds). Prints each round and the medians; CPU-time figures of engine.bench.ts.
set -euo pipefail
ref="${1:-HEAD}"
rounds="${2:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
base="$root/.tmp/compare-base"
out="$root/.tmp/compare"
rm -rf "$base" "$out"
mkdir -p "$base" "$out"
# The ref's src/ with today's bench file, so both sides run the same measurement.
git -C "$root" archive "$ref" src | tar -x -C "$base"
mkdir -p "$base/bench"
cp "$root/bench/engine.bench.ts" "$base/bench/"
ln -s "$root/node_modules" "$base/node_modules"
cp "$root/package.json" "$base/package.json"
build() { (cd "$1" && npx tsup bench/engine.bench.ts --no-config --format esm --platform node --out-dir "$2" --silent); }
build "$base" "$out/base"
build "$root" "$out/head"
run() { BENCH_CPU_ONLY=1 node --single-threaded "$1/engine.bench.js"; }
results="$out/results.jsonl"
for i in $(seq 1 "$rounds"); do
  b="$(run "$out/base")"
  h="$(run "$out/head")"
  echo "round $i  $ref: $b  this checkout: $h"
  echo "{\"side\":\"base\",\"r\":$b}" >>"$results"
  echo "{\"side\":\"head\",\"r\":$h}" >>"$results"
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l))
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const fmt = (n) => Math.round(n).toLocaleString("en-US")
console.log(`deltas per CPU-second, medians of ${lines.length / 2} alternating rounds:`)
for (const key of ["frame", "sdkFrame", "decoded"]) {
  const base = median(lines.filter((l) => l.side === "base").map((l) => l.r[key]))
  const head = median(lines.filter((l) => l.side === "head").map((l) => l.r[key]))
  console.log(`  ${key.padEnd(9)} ${process.argv[2]}: ${fmt(base).padStart(9)}   this checkout: ${fmt(head).padStart(9)}   ratio x${(head / base).toFixed(2)}`)
}' "$results" "$ref"

# bench/lib.sh -- helpers for the benchmark scripts (sourced): the machine description every
# figure carries, replacing a marked section of docs/benchmarks.md with fresh results, and the
# figures as data files for the charts (bench/chart.sh).
# shellcheck shell=bash

# The charts' data: one small whitespace-separated file per benchmark, git-ignored.
BENCH_OUT=${BENCH_OUT:-$LX_ROOT/bench/out}

bench_machine() { # one line: CPU model, cores, memory, kernel, date
    local cpu mem
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
    mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
    printf '%s, %s cores, %s, Linux %s, %s' "${cpu:-unknown CPU}" "$(nproc)" "$mem" \
        "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)"
}

bench_cpu() { # one line: CPU model and cores, for the charts
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
    printf '%s, %s cores' "${cpu:-unknown CPU}" "$(nproc)"
}

# bench_data NAME "COLUMNS" "CORPUS" "SETTINGS": start $BENCH_OUT/NAME.dat with its header
# (what bench/chart.sh puts under a chart's title: machine, corpus, settings; then the column
# names); the caller appends the rows, one per line, whitespace-separated.
bench_data() {
    mkdir -p "$BENCH_OUT"
    {
        echo "# machine: $(bench_cpu), $(date -u +%Y-%m-%d)"
        echo "# corpus: $3"
        echo "# settings: $4"
        echo "# $2"
    } >"$BENCH_OUT/$1.dat"
}

# bench_chart CHART...: draw docs/img/CHART.png from the data files (bench/chart.sh).
bench_chart() {
    "$LX_ROOT/bench/chart.sh" "$@"
}

# bench_record NAME FILE: put FILE's contents between the markers
# <!-- bench:NAME:begin --> and <!-- bench:NAME:end --> in docs/benchmarks.md (appended with
# the markers when they are not there yet).
bench_record() {
    local name=$1 file=$2 doc="$LX_ROOT/docs/benchmarks.md"
    local begin="<!-- bench:$name:begin -->" end="<!-- bench:$name:end -->"
    [ -f "$doc" ] || printf '# lexrag benchmarks\n' >"$doc"
    if ! grep -qF "$begin" "$doc"; then
        printf '\n%s\n%s\n' "$begin" "$end" >>"$doc"
    fi
    python3 - "$doc" "$begin" "$end" "$file" <<'PY'
import sys
doc, begin, end, part = sys.argv[1:5]
text = open(doc, encoding="utf-8").read()
new = open(part, encoding="utf-8").read().rstrip("\n")
a = text.index(begin) + len(begin)
b = text.index(end, a)
open(doc, "w", encoding="utf-8").write(text[:a] + "\n" + new + "\n" + text[b:])
PY
}

#!/usr/bin/env bash
# bench/chart.sh -- the benchmark charts: docs/img/CHART.png (800x450) drawn by gnuplot from the
# data files the benchmarks leave in bench/out/ (BENCH_OUT), with bench/style.gp and then
# bench/CHART.gp. Under each title: the machine, corpus and settings from the data's header
# (bench_data in bench/lib.sh).
#
#   bench/chart.sh [CHART...]     default: every chart whose data are there
#
#   chat-first-delta  time to first delta (p50, p99) against concurrent chats    chat.dat
#   search-latency    search latency (p50, p99) and loop lag against connections search.dat
#   throughput        requests/s against connections, health and search         health.dat, search.dat
#   ingest-rate       units/s of each ingest phase and overall                  ingest.dat
set -euo pipefail
LX_ROOT=${LX_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH_OUT=${BENCH_OUT:-$LX_ROOT/bench/out}
img=$LX_ROOT/docs/img

command -v gnuplot >/dev/null 2>&1 || {
    echo "bench/chart.sh: gnuplot is not installed (run scripts/install-deps)" >&2
    exit 1
}

hdr() { # NAME KEY: the data file's header line "# KEY: ..."
    sed -n "s/^# $2: //p" "$BENCH_OUT/$1.dat" | head -n 1
}
gp_str() { # TEXT...: one gnuplot double-quoted string, each argument a line (wrapped to fit)
    local s out="" sep=""
    while IFS= read -r s; do
        s=${s//\\/\\\\}
        out+="$sep${s//\"/\\\"}"
        sep='\n'
    done < <(printf '%s\n' "$@" | fold -s -w 105 | sed 's/ *$//')
    printf '"%s"' "$out"
}
have() { # NAME...: all of bench/out/NAME.dat are there
    local n
    for n; do [ -s "$BENCH_OUT/$n.dat" ] || return 1; done
}

draw() { # CHART TITLE-LINES...: bench/CHART.gp with out, ttl and the data files' paths set
    local chart=$1
    shift
    mkdir -p "$img"
    gnuplot -e "out = '$img/$chart.png'; ttl = $(gp_str "$@"); outdir = '$BENCH_OUT/'" \
        "$LX_ROOT/bench/style.gp" "$LX_ROOT/bench/$chart.gp"
    echo "bench/chart.sh: docs/img/$chart.png"
}

chart() { # CHART [quiet]: draw it if its data are there
    local c=$1 quiet=${2:-}
    case $c in
    chat-first-delta)
        have chat || { [ -n "$quiet" ] || echo "bench/chart.sh: no $BENCH_OUT/chat.dat" >&2; return 0; }
        draw "$c" "Streaming chat: time to first delta against concurrent chats" \
            "$(hdr chat machine)" "$(hdr chat corpus); $(hdr chat settings)"
        ;;
    search-latency)
        have search || { [ -n "$quiet" ] || echo "bench/chart.sh: no $BENCH_OUT/search.dat" >&2; return 0; }
        draw "$c" "POST /api/search: latency against concurrent connections" \
            "$(hdr search machine)" "$(hdr search corpus); $(hdr search settings)"
        ;;
    throughput)
        have health || have search ||
            { [ -n "$quiet" ] || echo "bench/chart.sh: no health.dat or search.dat" >&2; return 0; }
        local -a lines=("Throughput against concurrent connections")
        if have health; then
            lines+=("$(hdr health machine)" "health: $(hdr health settings)")
        fi
        if have search; then
            have health || lines+=("$(hdr search machine)")
            lines+=("search: $(hdr search corpus); $(hdr search settings)")
        fi
        draw "$c" "${lines[@]}"
        ;;
    ingest-rate)
        have ingest || { [ -n "$quiet" ] || echo "bench/chart.sh: no $BENCH_OUT/ingest.dat" >&2; return 0; }
        draw "$c" "lexrag-ingest load: units per second by phase" \
            "$(hdr ingest machine)" "$(hdr ingest corpus); $(hdr ingest settings)"
        ;;
    *)
        echo "bench/chart.sh: unknown chart '$c' (chat-first-delta, search-latency, throughput, ingest-rate)" >&2
        return 2
        ;;
    esac
}

if [ $# -eq 0 ]; then
    for c in chat-first-delta search-latency throughput ingest-rate; do
        chart "$c" quiet
    done
else
    for c; do
        chart "$c"
    done
fi

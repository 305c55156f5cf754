#!/usr/bin/env bash
# tests/fuzz/test_fuzz.sh -- runs each libFuzzer target of tests/fuzz/ (built by `make tests`
# into LX_BUILD/fuzz/ with clang, -fsanitize=fuzzer,address,undefined) for FUZZ_SECONDS
# (default 30) on a copy of its seed corpus (tests/fuzz/corpus/TARGET/) with its dictionary
# (tests/fuzz/TARGET.dict) where there is one. One TAP line per target; a crash, a sanitizer
# report, a leak or a timeout is a failure, with the input that caused it (kept in
# LX_BUILD/fuzz/crashes/TARGET/) and the first lines of the report. The targets run once per
# `make check`: with the plain build; a sanitizer build (whose worker links ASan) skips.
# Needs LX_BUILD (tests/run sets it; default build/).
# shellcheck source-path=SCRIPTDIR
set -u
export LC_ALL=C
root=${LX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$root/tests/lib/tap.sh"
build=${LX_BUILD:-$root/build}
secs=${FUZZ_SECONDS:-30}

if [[ ! $secs =~ ^[0-9]{1,5}$ ]] || [ "$secs" -eq 0 ]; then
    echo "not ok 1 - FUZZ_SECONDS is a whole number of seconds, 1 to 99999 (got '$secs')"
    echo "1..1"
    exit 1
fi
if grep -aq __asan_init "$build/lexrag-fcgi" 2>/dev/null; then
    echo "1..0 # SKIP the fuzz targets run once, with the plain build (this is a sanitizer build)"
    exit 0
fi

tmp=$(mktemp -d /tmp/lexrag-fuzz.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# Longest input each target is given: room for what it parses, no more (shorter runs faster).
max_len() {
    case $1 in
    fuzz_cite) echo 512 ;;
    fuzz_json_req) echo 9000 ;; # a message of 8000 characters and then some
    *) echo 4096 ;;
    esac
}

# The first lines of the sanitizer's (or libFuzzer's) report in log, as TAP comments.
report() {
    local log=$1 at
    at=$(grep -n -m1 -E '==[0-9]+==ERROR|runtime error:|deadly signal|ERROR: libFuzzer|^ParseDictionary' "$log" | cut -d: -f1)
    if [ -n "$at" ]; then
        sed -n "${at},$((at + 11))p" "$log"
    else
        tail -n 12 "$log"
    fi | sed 's/^/# /'
}

for src in "$root"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin=$build/fuzz/$name
    if [ ! -x "$bin" ]; then
        ok_if "$name: $bin is built (run make tests; it needs clang and libclang-rt-14-dev)" 1
        continue
    fi
    work=$tmp/$name
    crashes=$build/fuzz/crashes/$name
    mkdir -p "$work/corpus" "$crashes"
    rm -f "$crashes"/*
    if [ -d "$root/tests/fuzz/corpus/$name" ]; then
        cp "$root/tests/fuzz/corpus/$name"/* "$work/corpus/"
    fi
    args=(-max_total_time="$secs" -timeout=10 -max_len="$(max_len "$name")" -print_final_stats=1
        -artifact_prefix="$crashes/")
    [ -f "$root/tests/fuzz/$name.dict" ] && args+=(-dict="$root/tests/fuzz/$name.dict")
    UBSAN_OPTIONS=print_stacktrace=1 "$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/log")
    found=$(find "$crashes" -type f | head -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$found" ] && [ -n "$runs" ]; then
        ok_if "$name: ${took:-$secs} s, $runs runs, no crash" 0
    else
        ok_if "$name: failed (exit status $rc)${runs:+ after $runs runs}" 1
        if [ -n "$found" ]; then
            diag "input: $found"
            diag "again: $bin $found"
        fi
        report "$work/log"
    fi
done
tap_done

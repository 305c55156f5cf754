#!/usr/bin/env bash
# tests/web/test_kill_worker.sh -- a worker killed under load: the other one keeps serving, the
# only requests that fail are those that were in flight when it died, multiwatch starts a
# replacement, and the replacement serves. Through lighttpd and through Apache.
# shellcheck source=web_lib.sh
. "$(dirname "$0")/web_lib.sh"

CONC=8         # load: 8 clients in a loop of hold?ms=100 requests ...
LOAD_S=5       # ... for 5 seconds
KILL_AFTER=1.5 # the kill comes 1.5 s into the load

web_setup 2

# Client loop; one line per request: start end status pid (times from time.time(), the same
# clock as $EPOCHREALTIME).
load() { # URL OUT
    python3 - "$1" "$CONC" "$LOAD_S" "$2" <<'PY'
import json, sys, threading, time, urllib.error, urllib.request
url, conc, dur, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
stop, rows, lock = time.time() + dur, [], threading.Lock()
def client():
    while time.time() < stop:
        t0, status, pid = time.time(), 0, 0
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                status = r.status
                pid = json.load(r).get("pid", 0)
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:
            status = 0
        with lock:
            rows.append((t0, time.time(), status, pid))
threads = [threading.Thread(target=client) for _ in range(conc)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    for r in sorted(rows):
        f.write("%.6f %.6f %d %d\n" % r)
PY
}

for srv in "${WEB_SERVERS[@]}"; do
    base=${BASE[$srv]}
    mapfile -t before < <(lx_worker_pids "$WEB_DIR")
    is "$srv: 2 workers before" "${#before[@]}" 2
    victim=${before[0]}
    out="$WEB_DIR/load-$srv.txt"

    load "$base/api/_test/hold?ms=100" "$out" &
    load_pid=$!
    sleep "$KILL_AFTER"
    kill_t0=$EPOCHREALTIME
    kill -KILL "$victim"
    while _lx_alive "$victim"; do sleep 0.01; done
    kill_t1=$EPOCHREALTIME
    diag "$srv: killed worker $victim ($(web_ms "$kill_t0" "$kill_t1") ms to die)"

    # multiwatch forks a replacement.
    new=""
    for _ in $(seq 1 100); do
        for p in $(lx_worker_pids "$WEB_DIR"); do
            case " ${before[*]} " in *" $p "*) ;; *) new=$p ;; esac
        done
        [ -n "$new" ] && break
        sleep 0.05
    done
    ok_if "$srv: multiwatch started a replacement worker within 5 s (${new:-none})" \
        "$([ -n "$new" ] && echo 0 || echo 1)"
    [ -n "$new" ] && diag "$srv: replacement $new after $(web_ms "$kill_t1") ms"
    is "$srv: 2 workers again" "$(lx_worker_pids "$WEB_DIR" | wc -l)" 2

    wait "$load_pid"
    total=$(wc -l <"$out")
    failed=$(awk '$3 != 200' "$out" | wc -l)
    after=$(awk -v k="$kill_t1" '$1 > k && $3 == 200' "$out" | wc -l)
    # A failure is allowed only for a request in flight when the worker died: started before it
    # was gone, ended after the kill was sent.
    stray=$(awk -v k0="$kill_t0" -v k1="$kill_t1" '$3 != 200 && !($1 <= k1 && $2 >= k0)' "$out" | wc -l)
    diag "$srv: load: $total requests, $failed failed (statuses $(awk '{ print $3 }' "$out" | sort | uniq -c | tr -s ' \n' ' ')), $after succeeded after the kill"
    ok_if "$srv: load ran ($total requests)" $((total > 20 ? 0 : 1))
    ok_if "$srv: requests kept succeeding after the kill ($after)" $((after > 10 ? 0 : 1))
    ok_if "$srv: failures only among requests in flight on the killed worker ($failed failed, $stray not in flight)" \
        $((stray == 0 && failed <= CONC ? 0 : 1))
    [ "$stray" -eq 0 ] || awk -v k0="$kill_t0" -v k1="$kill_t1" \
        '$3 != 200 && !($1 <= k1 && $2 >= k0) { printf "#   %.3f..%.3f status %s\n", $1 - k0, $2 - k0, $3 }' "$out" | head -n 10

    ok20=0
    for _ in $(seq 1 20); do
        [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/api/_test/hold?ms=10")" = 200 ] &&
            ok20=$((ok20 + 1))
    done
    is "$srv: the next 20 requests all succeed" "$ok20" 20

    # The replacement serves: batches of concurrent health requests (so that Apache opens new
    # connections rather than reusing its old ones) until one comes from the new pid.
    seen=1
    if [ -n "$new" ]; then
        cfg="$WEB_DIR/health-$srv.cfg"
        for _ in $(seq 1 16); do printf 'url = "%s"\n' "$base/api/health"; done >"$cfg"
        for _ in $(seq 1 20); do
            if curl -s --no-progress-meter -m 5 --parallel --parallel-immediate --parallel-max 16 -K "$cfg" -w '\n' 2>/dev/null |
                grep -q "\"pid\": *${new}[,}]"; then
                seen=0
                break
            fi
        done
    fi
    ok_if "$srv: /api/health answered from the replacement worker $new" "$seen"
done

web_finish

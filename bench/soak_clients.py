#!/usr/bin/env python3
"""bench/soak_clients.py -- the load of bench/soak.sh: C clients at once for S seconds, each in a
loop: a search (70%) or a streamed chat read to its end (30%), with varied questions (so that
most query embeddings miss the cache and reach the embedder).

  soak_clients.py BASE_URL CLIENTS SECONDS

Prints one JSON object: requests served, errors by kind (HTTP status, error event, connection
failure, timeout), degraded answers by leg, and latency percentiles by kind (ms).
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

WORDS = ("izin air sanksi pidana kebun raya iuran pelestarian desa pengambilan berlaku pemegang "
         "badan usaha mata pasar terapung ketertiban pedagang perahu retribusi kewajiban larangan "
         "denda pencabutan pendaftaran").split()


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 1)


def main():
    base, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    u = urllib.parse.urlsplit(base)
    lock = threading.Lock()
    lat = {"search": [], "chat_first": [], "chat_done": []}
    counts = {"search": 0, "chat": 0}
    errors, degraded = {}, {}
    deadline = time.monotonic() + seconds

    def err(kind):
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def one(rnd, conn):
        q = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 6))) + " %d" % rnd.randint(0, 10**6)
        chat = rnd.random() < 0.3
        path = "/api/chat" if chat else "/api/search"
        body = json.dumps({"question": q, "top_k": 3} if chat else {"query": q, "top_k": 10})
        t0 = time.monotonic()
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            resp.read()
            err("http_%d" % resp.status)
            return
        if not chat:
            data = json.loads(resp.read())
            with lock:
                lat["search"].append((time.monotonic() - t0) * 1000)
                counts["search"] += 1
                for leg in data.get("degraded", []):
                    degraded[leg] = degraded.get(leg, 0) + 1
            return
        first, event, ok = None, None, False
        for raw in resp:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
                if event == "delta" and first is None:
                    first = (time.monotonic() - t0) * 1000
                elif event == "error":
                    err("error_event")
                elif event == "done":
                    ok = True
        if ok:
            with lock:
                counts["chat"] += 1
                if first is not None:
                    lat["chat_first"].append(first)
                lat["chat_done"].append((time.monotonic() - t0) * 1000)
        elif event != "error":
            err("stream_cut")

    def client(i):
        rnd = random.Random(i)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while time.monotonic() < deadline:
            try:
                one(rnd, conn)
            except (OSError, http.client.HTTPException, ValueError) as e:
                err("timeout" if "timed out" in str(e) else "connection")
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - t0
    print(json.dumps({
        "seconds": round(elapsed, 1), "clients": clients,
        "served": counts, "errors": errors, "degraded": degraded,
        "rps": round((counts["search"] + counts["chat"]) / elapsed, 1),
        "search_ms": {"p50": percentile(lat["search"], 0.5), "p99": percentile(lat["search"], 0.99)},
        "chat_first_ms": {"p50": percentile(lat["chat_first"], 0.5), "p99": percentile(lat["chat_first"], 0.99)},
        "chat_done_ms": {"p50": percentile(lat["chat_done"], 0.5), "p99": percentile(lat["chat_done"], 0.99)},
    }))


if __name__ == "__main__":
    main()

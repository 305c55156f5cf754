#!/usr/bin/env python3
"""tests/lib/sse_clients.py -- N concurrent streaming chats against one URL, for the tests and
benchmarks: each POSTs its JSON body and reads the server-sent events as they arrive.

  sse_clients.py URL N BODY_JSON [--timeout S]

Prints one JSON object: {"n": N, "ok": completed with a done event, "first_ms": [...], "done_ms":
[...], "server_first_ms": [...], "errors": [...]} where first_ms is each stream's time to its
first delta and done_ms to its done event, in milliseconds from the start of that request, as
the client saw them; server_first_ms is the worker's own first_token figure from each done
event's timings_ms (the client's share of the wait left out). Each list is sorted.
"""
import json
import sys
import threading
import time
import urllib.request


def one(url, body, timeout, out, i):
    t0 = time.perf_counter()
    first = done = server_first = None
    try:
        req = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            event = None
            for raw in r:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:") and event == "done":
                    try:
                        server_first = json.loads(line[5:])["timings_ms"]["first_token"]
                    except (ValueError, KeyError, TypeError):
                        pass
                if line.startswith("event:"):
                    event = line[6:].strip()
                    now = (time.perf_counter() - t0) * 1000
                    if event == "delta" and first is None:
                        first = now
                    if event == "done":
                        done = now
                    if event == "error":
                        out[i] = {"error": "error event"}
                        return
        out[i] = {"first": first, "done": done, "server_first": server_first}
    except Exception as e:  # noqa: BLE001 -- reported, not raised
        out[i] = {"error": str(e)}


def main():
    url, n, body = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--timeout" else 60
    out = [None] * n
    threads = [threading.Thread(target=one, args=(url, body, timeout, out, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [o for o in out if o and "error" not in o and o["done"] is not None]
    print(json.dumps({"n": n, "ok": len(ok),
                      "first_ms": sorted(o["first"] for o in ok if o["first"] is not None),
                      "done_ms": sorted(o["done"] for o in ok),
                      "server_first_ms": sorted(o["server_first"] for o in ok
                                                if o["server_first"] is not None),
                      "errors": [o["error"] for o in out if o and "error" in o][:5]}))


if __name__ == "__main__":
    main()

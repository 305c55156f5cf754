#!/usr/bin/env python3
"""bench/eval_search.py -- retrieval quality of a running lexrag over a QA file.

  eval_search.py BASE_URL QA_JSONL [--modes hybrid,bm25,dense] [--k 10] [--out FILE.md]

POSTs every question to BASE_URL/api/search (top_k = k) in each mode and prints Recall@1/5/10
and MRR@10, overall and per id prefix (the part before the first '-': galqa, pdp, glossary).
A hit is a result whose doc_id and pasal equal an entry of the question's "relevant" list (a
definition unit counts as its Pasal 1). Also prints p50/p99 of the search latency seen by the
client. With --out, writes the tables as Markdown.
"""
import argparse
import json
import statistics
import sys
import time
import urllib.request


def search(base, query, mode, k):
    body = json.dumps({"query": query, "mode": mode, "top_k": k}).encode()
    req = urllib.request.Request(base + "/api/search", data=body,
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        data = json.load(r)
    return data, (time.perf_counter() - t0) * 1000


def first_hit(results, relevant):
    want = {(r["doc_id"], r["pasal"]) for r in relevant}
    for i, res in enumerate(results):
        if (res["doc_id"], res["pasal"]) in want:
            return i + 1
    return 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("qa")
    ap.add_argument("--modes", default="hybrid,bm25,dense")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--out")
    a = ap.parse_args()
    qs = [json.loads(line) for line in open(a.qa, encoding="utf-8") if line.strip()]
    rows = []
    for mode in a.modes.split(","):
        ranks = {}
        lat = []
        for q in qs:
            data, ms = search(a.base, q["question"], mode, a.k)
            lat.append(ms)
            ranks.setdefault("all", []).append(first_hit(data["results"], q["relevant"]))
            ranks.setdefault(q["id"].split("-")[0], []).append(ranks["all"][-1])
        for group, rs in ranks.items():
            n = len(rs)
            rec = {k: sum(1 for r in rs if 0 < r <= k) / n for k in (1, 5, 10)}
            mrr = sum(1.0 / r for r in rs if 0 < r <= 10) / n
            rows.append((mode, group, n, rec[1], rec[5], rec[10], mrr))
        rows.append((mode, "latency", len(lat), statistics.median(lat), pct(lat, 99), 0, 0))
    lines = ["| mode | set | n | R@1 | R@5 | R@10 | MRR@10 |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    lat_lines = ["| mode | searches | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: |"]
    for mode, group, n, r1, r5, r10, mrr in rows:
        if group == "latency":
            lat_lines.append(f"| {mode} | {n} | {r1:.1f} | {r5:.1f} |")
        else:
            lines.append(f"| {mode} | {group} | {n} | {r1:.3f} | {r5:.3f} | {r10:.3f} | {mrr:.3f} |")
    text = "\n".join(lines) + "\n\nClient-side latency of those searches (one at a time):\n\n" + "\n".join(lat_lines) + "\n"
    print(text)
    if a.out:
        open(a.out, "w", encoding="utf-8").write(text)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""FAISS anchor for `bench gallery`: Debian python3-faiss 1.7.3, IndexFlatIP (exact inner product), driven over stdin.

argv: base.f32 queries.f32 dims. Prints one JSON line when loaded, then answers each stdin line:
  "round N"  -> times N single-query searches (k=5), JSON {p50, p99, mean} in ms
  "batch"    -> one search of all queries at once, JSON {ms_per_query, top1: [row ids]}
  "quit"
"""
import json, resource, sys, time

import faiss
import numpy as np

base_path, query_path, dims = sys.argv[1], sys.argv[2], int(sys.argv[3])
# memmap, not fromfile: FAISS copies the rows into its own storage, so a second in-memory copy would double the peak
base = np.memmap(base_path, dtype=np.float32, mode="r").reshape(-1, dims)
queries = np.fromfile(query_path, dtype=np.float32).reshape(-1, dims)
index = faiss.IndexFlatIP(dims)
index.add(base)
del base
rss = int(open("/proc/self/statm").read().split()[1]) * 4096 / 1048576
print(json.dumps({"version": faiss.__version__, "threads": faiss.omp_get_max_threads(), "rows": index.ntotal,
                  "rss_mib": rss, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
for w in range(5):
    index.search(queries[w:w + 1], 5)
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    if cmd[0] == "round":
        n = min(int(cmd[1]), len(queries))
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            index.search(queries[i:i + 1], 5)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p = lambda q: times[min(n - 1, int(np.ceil(q * n)) - 1)]
        print(json.dumps({"p50": p(0.5), "p99": p(0.99), "mean": sum(times) / n}), flush=True)
    elif cmd[0] == "batch":
        t0 = time.perf_counter()
        _, ids = index.search(queries, 5)
        ms = (time.perf_counter() - t0) * 1000
        print(json.dumps({"ms_per_query": ms / len(queries), "top1": ids[:, 0].tolist()}), flush=True)

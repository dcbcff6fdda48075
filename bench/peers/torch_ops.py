"""Peer: PyTorch on the CPU, driven by bench/peers/torch.ts.

Reads {"threads": n, "timeMs": t, "jobs": [...]} (jobs as bench/ops/cases.ts PeerJob) on stdin and
prints one JSON object with a timing per job. Each job is what a PyTorch user would write for the
op (broadcast formulas for the DEC soft assignment and the GMM responsibilities, torch.optim.Adam,
out= GEMMs with transposed views). Timing: 2 warm-up calls, then calls until the time budget and 3
calls are both reached; the median is reported, like the tinybench rows.
"""
import json
import math
import statistics
import sys
import time

import torch


def blas_library():
    """Which BLAS the process really loaded (Debian switches it with update-alternatives)."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return ", ".join(sorted(l.rsplit("/", 2)[-2] + "/" + l.rsplit("/", 1)[-1] for l in libs if "/" in l)) or "unknown"
    except OSError:
        return "unknown"


def data(shape, seed, lo=-1.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g) * (hi - lo) + lo


def make(job):
    k = job["kind"]
    if k == "gemm":
        m, kk, n = job["m"], job["k"], job["n"]
        a = data((kk, m) if job["transA"] else (m, kk), 1)
        b = data((n, kk) if job["transB"] else (kk, n), 2)
        a_op = a.t() if job["transA"] else a
        b_op = b.t() if job["transB"] else b
        c = torch.empty(m, n)
        return lambda: torch.mm(a_op, b_op, out=c)
    if k == "softAssign":
        z, mu, alpha = data((job["n"], job["d"]), 1, -3, 3), data((job["k"], job["d"]), 2, -3, 3), job["alpha"]

        def f():
            d2 = torch.sum((z.unsqueeze(1) - mu) ** 2, 2)
            q = (1.0 + d2 / alpha) ** (-(alpha + 1) / 2)
            return q / q.sum(1, keepdim=True)
        return f
    if k == "gmmLogResp":
        z, pi = data((job["n"], job["d"]), 1, -3, 3), data((job["k"],), 2)
        mu, lv = data((job["k"], job["d"]), 3, -3, 3), data((job["k"], job["d"]), 4)
        c = job["d"] * math.log(2 * math.pi)

        def f():
            log_pi = torch.log_softmax(pi, 0)
            quad = torch.sum((z.unsqueeze(1) - mu) ** 2 * torch.exp(-lv), 2)
            a = -0.5 * (quad + lv.sum(1) + c) + log_pi
            return a - torch.logsumexp(a, 1, keepdim=True)
        return f
    if k == "adam":
        p = torch.nn.Parameter(data((job["size"],), 1))
        p.grad = data((job["size"],), 2)
        opt = torch.optim.Adam([p], lr=1e-3)
        return opt.step
    if k == "biasAct":
        x, b = data((job["n"], job["d"]), 1), data((job["d"],), 2)
        y = torch.empty_like(x)

        def f():
            torch.add(x, b, out=y)
            return torch.relu_(y)
        return f
    raise ValueError(f"unknown job {k}")


def time_job(fn, time_ms):
    with torch.no_grad():
        fn()
        fn()
        samples = []
        start = time.perf_counter()
        while len(samples) < 3 or (time.perf_counter() - start) * 1e3 < time_ms:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
    mean = statistics.fmean(samples)
    moe = 1.96 * statistics.stdev(samples) / math.sqrt(len(samples)) if len(samples) > 1 else 0.0
    return {"p50Ms": statistics.median(samples), "meanMs": mean, "minMs": min(samples),
            "rmePct": 100 * moe / mean if mean > 0 else 0.0, "samples": len(samples)}


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
           "capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "unknown",
           "results": []}
    for job in req["jobs"]:
        try:
            out["results"].append(time_job(make(job), req["timeMs"]))
        except Exception as e:  # one failing job must not lose the others
            out["results"].append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Peer for the train-pipeline row (bench/e2e/train-pipeline.ts): the pipeline's training in PyTorch,
given as the same work. The TypeScript side counts what its own training asked of the backend
(bench/lib/workload.ts) and sends it here on stdin:

  {"threads": n, "features": F, "dims": [...], "lr": 1e-3, "emDtype": "float64"|"float32",
   "workload": {"phases": {...}, "em": [...], "kmeans": [...]}}

Each phase is replayed as a PyTorch user would write it, at the same sizes and counts:
  - training steps: nn.Linear + ReLU autoencoders (the pipeline's widths, mirrored decoder, MSE),
    IDEC steps (+ KL to a target, Student-t with alpha = 1) and VaDE steps (one reparameterised
    sample, the closed-form KL of Jiang et al. 2017) from torch_train.py, torch.optim.Adam, float32;
  - the IDEC target refreshes over all rows, and every inference pass (a forward GEMM over more
    rows than a minibatch) as addmm + ReLU at its recorded shape;
  - every reference-constrained EM with its recorded rows, components, classes, samples and number of
    E-steps, posterior passes (the balancing rounds included) and M-step sums, vectorised over all
    rows (log-densities through matrix products, logsumexp, index_add_ for the per-sample sums), in
    emDtype (float64 by default, as our kernels compute inside; the bench asks for float32, what a
    PyTorch user would write and the faster of the two);
  - every k-means: its assignment passes per centre count and its update passes.
Data are standard-normal rows: none of these costs depends on the values. What is not replayed —
reading and preprocessing the events, pulse summaries, host bookkeeping — stays in our time only,
so the comparison leans towards the peer.

Prints {"torch", "threads", "blas", "seconds", "phases": {phase: seconds}, "flop": the replayed networks'
GEMM FLOP, to set beside what our run's GEMMs counted}.
"""
import json
import math
import sys
import time

import torch
from torch import nn

from torch_ops import blas_library
from torch_train import idec, mlp, vade

LOG2PI = math.log(2 * math.pi)


class Flop:
    total = 0.0


def linear_flop(widths, rows, training):
    f = sum(2.0 * rows * a * b for a, b in zip(widths[:-1], widths[1:]))
    return 3 * f if training else f


def autoencoder(features, dims, lr):
    enc = mlp([features, *dims])
    dec = mlp([*reversed(dims), features])
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)
    return opt, lambda xb, _i0: ((dec(enc(xb)) - xb) ** 2).mean()


def train_steps(make, steps, x, batch):
    if steps <= 0:
        return
    opt, loss = make()
    n = x.shape[0]
    for s in range(steps):
        i0 = (s * batch) % max(1, n - batch)
        opt.zero_grad(set_to_none=True)
        loss(x[i0:i0 + batch], i0).backward()
        opt.step()


def network_phase(w, features, dims, lr):
    batch = w["batch"]
    steps = w["steps"]
    widths = [features, *dims]
    net_flop = linear_flop(widths, batch, True) * 2  # encoder and its mirror
    rows = max(batch * 4, max(w["targetRows"] or [0]))
    x = torch.randn(rows, features)
    job = {"dims": dims, "input": features, "rows": rows}
    train_steps(lambda: idec({**job, "k": w["idecK"]}, x), steps["idec"], x, batch)
    train_steps(lambda: vade({**job, "k": w["vadeK"]}, x), steps["vade"], x, batch)
    train_steps(lambda: autoencoder(features, dims, lr), steps["ae"] - steps["idec"] - steps["vade"], x, batch)
    Flop.total += steps["ae"] * net_flop
    with torch.no_grad():
        for n in w["targetRows"]:
            z = torch.randn(n, dims[-1])
            mu = torch.randn(w["idecK"], dims[-1])
            q = 1.0 / (1.0 + torch.cdist(z, mu) ** 2)
            q = q / q.sum(1, keepdim=True)
            p = q ** 2 / q.sum(0)
            p = p / p.sum(1, keepdim=True)
        for shape, calls in w["passes"].items():
            m, k, n = (int(v) for v in shape.split("x"))
            a, b, bias = torch.randn(m, k), torch.randn(k, n), torch.randn(n)
            for _ in range(calls):
                torch.relu_(torch.addmm(bias, a, b))
            Flop.total += 2.0 * m * k * n * calls


def em_run(r, dtype):
    """One reference-constrained EM at the recorded counts (em-known.ts: E-step, balancing passes,
    M-step sums, the host's M-step)."""
    n, d, k, C, S = r["n"], r["d"], r["k"], r["classes"], max(1, r["samples"])
    g = torch.Generator().manual_seed(n * 31 + k)
    z = torch.randn(n, d, generator=g, dtype=dtype)
    sample_of = torch.randint(0, S, (n,), generator=g)
    mu = torch.randn(k, d, generator=g, dtype=dtype)
    log_var = torch.zeros(k, d, dtype=dtype)
    rho = torch.softmax(torch.randn(C, k, generator=g, dtype=dtype), 1)
    log_prior = torch.log(torch.full((S, C), 1.0 / C, dtype=dtype))
    zz = z * z
    ld = cl = post = None
    passes = {"e": r["eSteps"], "p": r["posteriorPasses"], "s": r["statsPasses"]}
    # Interleaved as the pipeline runs them: E-step, its posterior passes, the sums.
    per_e = passes["p"] / max(1, passes["e"])
    done_p = 0
    for it in range(passes["e"]):
        iv = torch.exp(-log_var)
        cst = -0.5 * (d * LOG2PI + log_var.sum(1))
        ld = cst - 0.5 * (zz @ iv.T - 2 * z @ (mu * iv).T + (mu * mu * iv).sum(1))
        mx = ld.max(1, keepdim=True).values
        cl = torch.log(torch.exp(ld - mx) @ rho.T) + mx
        want_p = round(per_e * (it + 1))
        while done_p < want_p:
            a = cl + log_prior[sample_of]
            lse = torch.logsumexp(a, 1, keepdim=True)
            post = torch.exp(a - lse)
            col = torch.zeros(S, C, dtype=dtype).index_add_(0, sample_of, post)
            torch.zeros(S, dtype=dtype).index_add_(0, sample_of, lse[:, 0])
            log_prior = log_prior + 1e-3 * torch.log(col.clamp_min(1e-12) / col.mean())
            done_p += 1
        if it < passes["s"]:
            share = post.unsqueeze(2) * rho.unsqueeze(0) * torch.exp(ld.unsqueeze(1) - cl.unsqueeze(2))
            resp = share.sum(1)
            weights = share.sum(0)
            nk = resp.sum(0).clamp_min(1e-6)
            s1 = resp.T @ z
            s2 = resp.T @ zz
            mu = s1 / nk[:, None]
            log_var = torch.log((s2 / nk[:, None] - mu * mu).clamp_min(0) + 1e-4)
            rho = (weights + 1e-6) / (weights + 1e-6).sum(1, keepdim=True)


def kmeans_run(r):
    n, d = r["n"], r["d"]
    g = torch.Generator().manual_seed(n + d)
    x = torch.randn(n, d, generator=g)
    xx = (x * x).sum(1, keepdim=True)
    labels = None
    kmax = max(int(k) for k in r["assigns"]) if r["assigns"] else 1
    for k, calls in r["assigns"].items():
        c = torch.randn(int(k), d, generator=g)
        for _ in range(calls):
            dist = xx - 2 * x @ c.T + (c * c).sum(1)
            labels = dist.argmin(1)
            dist.min(1)
    if labels is None:
        labels = torch.zeros(n, dtype=torch.long)
    for _ in range(r["updates"]):
        torch.zeros(kmax, d).index_add_(0, labels, x)
        torch.bincount(labels, minlength=kmax)


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    w = req["workload"]
    em_dtype = torch.float64 if req.get("emDtype", "float64") == "float64" else torch.float32
    seconds = {}

    def timed(name, f):
        t = time.perf_counter()
        f()
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t

    t0 = time.perf_counter()
    for phase, pw in w["phases"].items():
        timed(phase, lambda: network_phase(pw, req["features"], req["dims"], req["lr"]))
    for r in w["em"]:
        timed(r["phase"], lambda: em_run(r, em_dtype))
    for r in w["kmeans"]:
        timed(r["phase"], lambda: kmeans_run(r))
    total = time.perf_counter() - t0
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
               "seconds": total, "phases": seconds, "flop": Flop.total}, sys.stdout)


if __name__ == "__main__":
    main()

"""Peer for the training rows (bench/lib/training.ts), driven by bench/peers/torch.ts.

Reads {"model": "idec"|"vade", "dims": [...], "input": D, "k": K, "rows": N, "batch": B, "steps": S,
"threads": n} on stdin and prints one JSON object with the seconds for S training steps (after 2
untimed warm-up steps). The step is what a PyTorch user would write: nn.Linear layers, ReLU between
them, the loss as a tensor expression, loss.backward(), torch.optim.Adam, float32.
  IDEC: MSE reconstruction + 0.1 * KL(P||Q), Q the Student-t (alpha = 1) soft assignment of the
        embedding to trainable centres, P a fixed target batch (see training.ts for why fixed).
  VaDE: -ELBO with one reparameterised sample: 0.5 * sum_d (x - x_hat)^2 + the closed-form KL of
        Jiang et al. (2017) eq. 12, gamma = softmax(log pi + log N(z | mu_c, sigma_c^2)).detach().
Data: standard-normal rows (our cells are z-scored; dense-layer cost does not depend on values).
"""
import json
import math
import sys
import time

import torch
from torch import nn

from torch_ops import blas_library


def mlp(widths, relu_last=False):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths) or relu_last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def idec(req, x):
    dims, k, n = req["dims"], req["k"], req["rows"]
    enc = mlp([req["input"], *dims])
    dec = mlp([*reversed(dims), req["input"]])
    mu = nn.Parameter(torch.rand(k, dims[-1]) * 2 - 1)
    p_all = torch.softmax(torch.rand(n, k) * 4 - 2, 1)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters(), mu], lr=1e-3)

    def loss(xb, i0):
        z = enc(xb)
        recon = ((dec(z) - xb) ** 2).mean()
        q = 1.0 / (1.0 + ((z.unsqueeze(1) - mu) ** 2).sum(2))
        q = q / q.sum(1, keepdim=True)
        p = p_all[i0:i0 + xb.shape[0]]
        kl = (p * (p.log() - q.log())).sum(1).mean()
        return recon + 0.1 * kl
    return opt, loss


def vade(req, x):
    dims, k = req["dims"], req["k"]
    d = dims[-1]
    widths = [req["input"], *dims]
    trunk = mlp(widths[:-1], relu_last=True) if len(dims) > 1 else nn.Identity()
    mu_head = nn.Linear(widths[-2], d)
    lv_head = nn.Linear(widths[-2], d)
    dec = mlp([*reversed(dims), req["input"]])
    pi_logits = nn.Parameter(torch.zeros(k))
    mu_c = nn.Parameter(torch.rand(k, d) * 2 - 1)
    lv_c = nn.Parameter(torch.zeros(k, d))
    params = [*trunk.parameters(), *mu_head.parameters(), *lv_head.parameters(), *dec.parameters(), pi_logits, mu_c, lv_c]
    opt = torch.optim.Adam(params, lr=2e-3)
    log2pi = math.log(2 * math.pi)

    def loss(xb, _i0):
        h = trunk(xb)
        mu, lv = mu_head(h), lv_head(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        recon = 0.5 * ((dec(z) - xb) ** 2).sum() / xb.shape[0]
        log_pi = torch.log_softmax(pi_logits, 0)
        inv_var_c = torch.exp(-lv_c)
        logp = -0.5 * (lv_c + (z.unsqueeze(1) - mu_c) ** 2 * inv_var_c + log2pi).sum(2) + log_pi
        gamma = torch.softmax(logp, 1).detach()
        per_c = 0.5 * (lv_c + (torch.exp(lv).unsqueeze(1) + (mu.unsqueeze(1) - mu_c) ** 2) * inv_var_c).sum(2)
        kl = (gamma * per_c).sum(1) - (gamma * (log_pi - torch.log(gamma + 1e-10))).sum(1) - 0.5 * (1 + lv).sum(1)
        return recon + kl.mean()
    return opt, loss


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    n, batch, steps = req["rows"], req["batch"], req["steps"]
    x = torch.randn(n, req["input"])
    opt, loss = (idec if req["model"] == "idec" else vade)(req, x)
    batches = n // batch
    state = {"b": 0}

    def step():
        i0 = (state["b"] % batches) * batch
        state["b"] += 1
        opt.zero_grad(set_to_none=True)
        loss(x[i0:i0 + batch], i0).backward()
        opt.step()

    step()
    step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - t0
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "seconds": seconds}, sys.stdout)


if __name__ == "__main__":
    main()

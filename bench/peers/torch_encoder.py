"""Peer for the end-to-end encoder row (bench/e2e/encoder-1m.ts), driven by bench/peers/torch.ts.

Reads {"threads": n, "dims": [...], "cells": N, "chunk": c} on stdin and prints one JSON object with
the seconds for N cells. The model is what a PyTorch user would write: nn.Sequential of nn.Linear with
ReLU between them and a linear last layer (the DEC encoder layout, Xie et al. 2016), random weights,
float32, under torch.no_grad(). Per chunk: copy the host input into the input tensor (our upload),
run the forward pass, copy the embedding out (our download). One warm-up chunk, then one timed pass
over all cells, like our rows.
"""
import json
import sys
import time

import torch

from torch_ops import blas_library


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    dims, cells, chunk = req["dims"], req["cells"], req["chunk"]
    layers = []
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i + 2 < len(dims):
            layers.append(torch.nn.ReLU(inplace=True))
    model = torch.nn.Sequential(*layers).float().eval()
    host = torch.rand(chunk, dims[0]) * 4 - 2
    x = torch.empty(chunk, dims[0])
    emb = torch.empty(chunk, dims[-1])

    def one_chunk():
        x.copy_(host)
        emb.copy_(model(x))

    with torch.no_grad():
        one_chunk()  # warm-up: first-touch pages, BLAS thread pool start
        t0 = time.perf_counter()
        done = 0
        while done < cells:
            one_chunk()
            done += chunk
        seconds = time.perf_counter() - t0
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(),
               "seconds": seconds, "checksum": float(emb.sum())}, sys.stdout)


if __name__ == "__main__":
    main()

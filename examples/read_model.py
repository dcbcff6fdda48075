"""Reads a hemaclust model file (safetensors) with the Python standard library only, and runs the
encoder on rows of input: the layout any PyTorch or NumPy user relies on, checked by
test/models-python.test.ts against hemaclust's own `transform`.

    python3 examples/read_model.py MODEL.safetensors < rows.json   # rows: [[x0, x1, ...], ...]

Prints {"metadata": {...}, "tensors": {name: shape}, "embedding": [[...], ...]} as JSON.
With PyTorch and the `safetensors` package the same file loads with
`safetensors.torch.load_file(path)`; weights are nn.Linear layout [out, in].
"""
import json
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + header_len])
    metadata = header.pop("__metadata__", {})
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        count = (end - start) // 4
        tensors[name] = (info["shape"], list(struct.unpack_from(f"<{count}f", blob, base + start)))
    return metadata, tensors


def linear(rows, weight, bias):
    (out_dim, in_dim), w = weight
    _, b = bias
    return [[b[o] + sum(w[o * in_dim + i] * r[i] for i in range(in_dim)) for o in range(out_dim)] for r in rows]


def encode(metadata, tensors, rows):
    arch = json.loads(metadata["architecture"])
    norm = json.loads(metadata["normalization"])
    if norm.get("kind") == "standard":
        rows = [[(v - m) / s for v, m, s in zip(r, norm["mean"], norm["std"])] for r in rows]
    elif norm.get("kind") not in (None, "none"):
        raise ValueError(f"normalisation {norm.get('kind')} not handled by this example")
    layers = len(arch["dims"])
    for l in range(layers):
        last = l == layers - 1
        name = f"encoder_mu.0" if last and arch["model"] == "vade" else f"encoder.{l}"
        rows = linear(rows, tensors[f"{name}.weight"], tensors[f"{name}.bias"])
        act = arch["embeddingActivation"] if last else arch["hiddenActivation"]
        if act == "relu":
            rows = [[max(0.0, v) for v in r] for r in rows]
        elif act != "identity":
            raise ValueError(f"activation {act} not handled by this example")
    return rows


if __name__ == "__main__":
    meta, tens = read_safetensors(sys.argv[1])
    emb = encode(meta, tens, json.load(sys.stdin))
    json.dump({"metadata": meta, "tensors": {k: v[0] for k, v in tens.items()}, "embedding": emb}, sys.stdout)

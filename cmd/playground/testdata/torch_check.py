"""Load a playground checkpoint into torch.nn.Sequential by name and print the
test loss PyTorch computes on the dataset CSV (playground data).

usage: torch_check.py CHECKPOINT DATA_CSV
"""
import csv
import json
import struct
import sys

import torch
from torch import nn


def load_safetensors(path):
    """The safetensors layout, read with nothing but torch (Debian's torch has
    no safetensors package; safetensors.torch.load_file returns the same)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__")
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        buf = bytearray(data[8 + n + begin : 8 + n + end])
        out[name] = torch.frombuffer(buf, dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return meta, out


ACTIVATIONS = {
    "linear": nn.Identity,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "softmax": lambda: nn.Softmax(dim=1),
}


def main():
    meta, tensors = load_safetensors(sys.argv[1])
    spec = json.loads(meta["spec"])
    # The same shape as the spec: Linear, activation, Linear, activation...
    mods, inputs = [], tensors["layers.0.weight"].shape[1]
    for layer in spec["model"]["layers"]:
        mods += [nn.Linear(inputs, layer["units"]), ACTIVATIONS[layer["activation"]]()]
        inputs = layer["units"]
    net = nn.Module()
    net.layers = nn.Sequential(*mods)
    net.load_state_dict({k: v for k, v in tensors.items() if k.startswith("layers.")}, strict=True)

    xs, labels = [], []
    with open(sys.argv[2]) as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            if row[-1] == "test":
                xs.append([float(v) for v in row[:-2]])
                labels.append(float(row[-2]))
    x, y = torch.tensor(xs), torch.tensor(labels)
    with torch.no_grad():
        out = net.layers(x)
        logits = net.layers[:-1](x)  # before the output activation
    # From the logits, as the engine computes its losses (exact where the
    # output saturates, unlike the log of a clamped probability).
    if spec["loss"] == "bce":
        loss = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y)
    elif spec["loss"] == "softmax_ce":
        loss = nn.functional.cross_entropy(logits, y.long())
    else:
        loss = ((out[:, 0] - y) ** 2).mean()
    print(f"{loss.item():.9g}")


main()

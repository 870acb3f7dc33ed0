"""Continue a playground run in PyTorch, and bring it back.

    import playground_torch as pt
    model, opt, sched, info = pt.load("run.safetensors")
    (x, y), _ = pt.dataset(info)
    loss_fn = pt.loss_fn(info)
    for step in range(info["step"], info["step"] + 100):
        idx = pt.batch_indices(info, step)
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        (loss + pt.penalty(model, info)).backward()
        opt.step()
        sched.step()
    pt.save("run-300.safetensors", model, opt, sched, info, step + 1)

One file that needs only torch (safetensors is not required: the file format
is read and written here). What the engine does, and so what this module sets
up (README "Continue in PyTorch" has the table):

- model(x) returns the logits for bce and softmax_ce (the output layer's
  sigmoid or softmax is part of the loss, as BCEWithLogitsLoss and
  CrossEntropyLoss take it); for mse it returns the output activation.
- L1/L2 are penalties on the weights only (never biases), rate*|W| and
  rate/2*W**2, whose gradient is added before the optimizer (coupled under
  Adam): penalty(model, info) is that term. The engine's reported loss
  excludes it.
- The learning rate follows the engine's schedule as a LambdaLR whose
  last_epoch is the number of completed steps; cosine holds min_lr after
  total (CosineAnnealingLR would rise again).
- batches(info, epoch) is the engine's permutation of the training set for
  that epoch: the same PCG (Go's math/rand/v2, DXSM) and Fisher-Yates.
- dataset(info) runs `playground data` (the binary named by $PLAYGROUND, else
  `playground` on PATH) rather than reimplementing the generators: the
  features are the engine's float32 values, printed so they parse back
  exactly.
"""
import datetime
import hashlib
import json
import math
import os
import secrets
import struct
import subprocess
import tempfile

import torch
from torch import nn

__all__ = [
    "load", "save", "dataset", "batches", "batch_indices", "loss_fn", "penalty",
    "learning_rate", "read_safetensors",
]

FORMAT = "playground-checkpoint"
FORMAT_VERSION = "1"

_ACTIVATIONS = {
    "linear": nn.Identity,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "softmax": lambda: nn.Softmax(dim=1),
}

_STATE_NAMES = {  # the engine's optimizer.* tensors, as torch names its state
    "sgd": ["momentum_buffer"],
    "adam": ["exp_avg", "exp_avg_sq"],
    "adamw": ["exp_avg", "exp_avg_sq"],
    "rmsprop": ["square_avg"],
}


# ---------------------------------------------------------------- the file


def read_safetensors(path):
    """Returns (metadata dict, ordered dict name -> tensor) of a
    .safetensors file, read with nothing but torch."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        buf = bytearray(data[8 + n + begin : 8 + n + end])
        x = torch.frombuffer(buf, dtype=dtypes[t["dtype"]]) if buf else torch.zeros(0, dtype=dtypes[t["dtype"]])
        tensors[name] = x.reshape(t["shape"])
    return meta, tensors


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _go_quote(s):
    """s as Go's encoding/json quotes it: the checkpoint header is canonical
    and its checksum covers these bytes."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif o < 0x20 or ch in "<>&" or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _header(meta, entries):
    """The canonical header JSON (persist/format.go appendHeader): sorted
    metadata keys, tensors in data order, no whitespace."""
    parts = ["{", '"__metadata__":{']
    parts.append(",".join(_go_quote(k) + ":" + _go_quote(meta[k]) for k in sorted(meta)))
    parts.append("}")
    for name, dtype, shape, begin, end in entries:
        parts.append(
            "," + _go_quote(name) + ':{"dtype":' + _go_quote(dtype)
            + ',"shape":[' + ",".join(str(d) for d in shape) + "]"
            + ',"data_offsets":[' + str(begin) + "," + str(end) + "]}"
        )
    parts.append("}")
    return "".join(parts).encode("utf-8")


def _rfc3339(t):
    """t (UTC) as Go's time.RFC3339Nano writes it."""
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += ("." + "%06d" % t.microsecond).rstrip("0")
    return s + "Z"


def write_checkpoint(path, meta, tensors):
    """Writes a playground checkpoint: meta (every __metadata__ key but
    checksum) and tensors (list of (name, tensor) in the engine's order).
    The checksum is the SHA-256 of the canonical header without the checksum
    key, then the data section."""
    entries, blobs, off = [], [], 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.int64:
            dtype, b = "I64", struct.pack("<%dq" % t.numel(), *t.reshape(-1).tolist())
        else:
            t = t.to(torch.float32)
            dtype, b = "F32", struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist())
        entries.append((name, dtype, list(t.shape), off, off + len(b)))
        blobs.append(b)
        off += len(b)
    data = b"".join(blobs)
    meta = {k: v for k, v in meta.items() if k != "checksum"}
    meta["checksum"] = "sha256:" + hashlib.sha256(_header(meta, entries) + data).hexdigest()
    h = _header(meta, entries)
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- the spec


def learning_rate(spec, step):
    """The engine's learning rate for the update after `step` completed
    steps (engine.LearningRate)."""
    lr, sc = spec["optimizer"]["lr"], spec["schedule"]
    kind = sc.get("kind", "constant")
    if kind == "step":
        return lr * sc["gamma"] ** (step // sc["step_size"])
    if kind == "cosine":
        warmup, total, min_lr = sc.get("warmup", 0), sc["total"], sc.get("min_lr", 0.0)
        if step < warmup:
            return lr * (step + 1) / warmup
        progress = min(step - warmup, total - warmup) / (total - warmup)
        return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
    return lr


def _optimizer(spec, params):
    # A checkpoint's spec is normalized: every setting the engine uses is
    # there, and an absent field is Go's zero value (omitted as empty).
    o = {"momentum": 0.0, "nesterov": False, "beta1": 0.0, "beta2": 0.0, "alpha": 0.0,
         "eps": 0.0, "weight_decay": 0.0} | spec["optimizer"]
    kind, lr, wd = o["kind"], o["lr"], o["weight_decay"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=wd)
    if kind in ("adam", "adamw"):
        cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
        return cls(params, lr=lr, betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=wd)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o["alpha"], eps=o["eps"], weight_decay=wd)
    raise ValueError("unknown optimizer %r" % kind)


class _Model(nn.Module):
    def __init__(self, spec, inputs):
        super().__init__()
        mods, n = [], inputs
        layers = spec["model"]["layers"]
        for i, layer in enumerate(layers):
            act = layer["activation"]
            if i == len(layers) - 1 and spec["loss"] in ("bce", "softmax_ce"):
                act = "linear"  # the loss takes the logits
            mods += [nn.Linear(n, layer["units"]), _ACTIVATIONS[act]()]
            n = layer["units"]
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)


def _weights(model):
    return [m.weight for m in model.layers if isinstance(m, nn.Linear)]


def _params(model):
    """The parameters in the engine's order: W0, b0, W1, b1, ..."""
    out = []
    for i, m in enumerate(model.layers):  # i: nn.Sequential's module index
        if isinstance(m, nn.Linear):
            out += [("layers.%d.weight" % i, m.weight), ("layers.%d.bias" % i, m.bias)]
    return out


# ---------------------------------------------------------------- public API


def load(path):
    """Loads a checkpoint: (model, optimizer, scheduler, info).

    The optimizer holds the engine's state (moments, step counter) and the
    scheduler's last_epoch is the number of completed steps, so the next
    optimizer.step() is the engine's update number info["step"] + 1."""
    meta, tensors = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ValueError("%s is not a playground checkpoint" % path)
    spec = json.loads(meta["spec"])
    step = int(meta["step"])
    inputs = tensors["layers.0.weight"].shape[1]
    model = _Model(spec, inputs)
    with torch.no_grad():
        for name, p in _params(model):
            p.copy_(tensors[name])
    params = [p for _, p in _params(model)]
    opt = _optimizer(spec, params)
    kind = spec["optimizer"]["kind"]
    names = _STATE_NAMES[kind] if kind != "sgd" or spec["optimizer"].get("momentum", 0) else []
    if int(tensors["optimizer.step"]) != step:
        raise ValueError("optimizer.step %d differs from step %d" % (int(tensors["optimizer.step"]), step))
    if step > 0:
        for name, p in _params(model):
            st = {k: tensors["optimizer.%s.%s" % (name, k)].clone() for k in names}
            if kind in ("adam", "adamw"):
                st["step"] = torch.tensor(float(step))
            elif kind == "rmsprop":
                st["step"] = step
            if st:
                opt.state[p] = st
    lr0 = spec["optimizer"]["lr"]
    for g in opt.param_groups:
        g["initial_lr"] = lr0
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: learning_rate(spec, s) / lr0, last_epoch=step - 1)
    train_n = spec["dataset"]["samples"] - int(spec["dataset"]["samples"] * spec["dataset"]["test_ratio"])
    bs = spec["batch_size"]
    info = {
        "path": path, "meta": meta, "spec": spec, "step": step,
        "epoch": int(meta["epoch"]), "batch": int(meta["batch"]),
        "train_samples": train_n, "batch_size": bs,
        "batches_per_epoch": (train_n + bs - 1) // bs,
    }
    return model, opt, sched, info


def save(path, model, optimizer, scheduler, info, step):
    """Writes the state after `step` completed steps as a checkpoint the
    playground verifies and resumes (a child of the loaded checkpoint, in the
    same run). scheduler.last_epoch must equal step."""
    if scheduler is not None and scheduler.last_epoch != step:
        raise ValueError("scheduler is at step %d, not %d" % (scheduler.last_epoch, step))
    spec = info["spec"]
    kind = spec["optimizer"]["kind"]
    names = _STATE_NAMES[kind] if kind != "sgd" or spec["optimizer"].get("momentum", 0) else []
    params = _params(model)
    tensors = [(n, p) for n, p in params]
    for name, p in params:
        st = optimizer.state.get(p, {})
        for k in names:
            buf = st.get(k)
            tensors.append(("optimizer.%s.%s" % (name, k), buf if buf is not None else torch.zeros_like(p)))
    tensors.append(("optimizer.step", torch.tensor(step, dtype=torch.int64)))
    bpe = info["batches_per_epoch"]
    old = info["meta"]
    meta = dict(old)
    meta.update({
        "step": str(step), "epoch": str(step // bpe), "batch": str(step % bpe),
        "checkpoint_id": "%012d-%s" % (step, secrets.token_hex(4)),
        "parent_id": old["checkpoint_id"], "parent_run": "",
        "created": _rfc3339(datetime.datetime.now(datetime.timezone.utc)),
        "kind": "imported",
    })
    write_checkpoint(path, meta, tensors)
    return meta["checkpoint_id"]


def dataset(info, playground=None):
    """((x_train, y_train), (x_test, y_test)) with the engine's features and
    targets in the form loss_fn(info) takes (bce and mse: float (n, 1);
    softmax_ce: class indices). Runs `playground data --spec`."""
    exe = playground or os.environ.get("PLAYGROUND", "playground")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(info["meta"]["spec"])
    try:
        csv = subprocess.run([exe, "data", "--spec", f.name], check=True,
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    rows = {"train": ([], []), "test": ([], [])}
    for line in csv.splitlines()[1:]:
        *xs, label, split = line.split(",")
        rows[split][0].append([float(v) for v in xs])
        rows[split][1].append(float(label))
    out = []
    for split in ("train", "test"):
        x = torch.tensor(rows[split][0], dtype=torch.float32)
        y = torch.tensor(rows[split][1], dtype=torch.float32)
        if info["spec"]["loss"] == "softmax_ce":
            y = y.long()
        else:
            y = y.reshape(-1, 1)
        out.append((x, y))
    return tuple(out)


_M64 = (1 << 64) - 1


class _PCG:
    """Go's math/rand/v2 PCG (128-bit LCG, DXSM output)."""
    MUL = (2549297995355413924 << 64) | 4865540595714422341
    INC = (6364136223846793005 << 64) | 1442695040888963407

    def __init__(self, seed1, seed2):
        self.state = ((seed1 & _M64) << 64) | (seed2 & _M64)

    def uint64(self):
        self.state = (self.state * self.MUL + self.INC) & ((1 << 128) - 1)
        hi, lo = self.state >> 64, self.state & _M64
        hi ^= hi >> 32
        hi = (hi * 0xDA942042E4DD58B5) & _M64
        hi ^= hi >> 48
        return (hi * (lo | 1)) & _M64

    def uint64n(self, n):  # rand.Rand.Uint64N
        if n & (n - 1) == 0:
            return self.uint64() & (n - 1)
        prod = self.uint64() * n
        hi, lo = prod >> 64, prod & _M64
        if lo < n:
            thresh = ((1 << 64) - n) % n
            while lo < thresh:
                prod = self.uint64() * n
                hi, lo = prod >> 64, prod & _M64
        return hi


_STREAM_ORDER = 0x6F72646572000003


def batches(info, epoch):
    """The engine's order of training-sample indices in `epoch`: a pure
    function of (seed, epoch). Batch b of the epoch is
    order[b*batch_size:(b+1)*batch_size] (the last may be shorter)."""
    n = info["train_samples"]
    r = _PCG(info["spec"]["seed"], _STREAM_ORDER ^ ((epoch * 0x9E3779B97F4A7C15) & _M64))
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = r.uint64n(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def batch_indices(info, step):
    """The training-sample indices of the batch the engine trains on at
    update step+1 (after `step` completed steps), as a LongTensor."""
    epoch, b = divmod(step, info["batches_per_epoch"])
    cache = info.setdefault("_orders", {})
    if epoch not in cache:
        cache.clear()
        cache[epoch] = batches(info, epoch)
    bs = info["batch_size"]
    return torch.tensor(cache[epoch][b * bs : (b + 1) * bs], dtype=torch.long)


def loss_fn(info):
    """The engine's loss on model(x): the mean over the batch."""
    loss = info["spec"]["loss"]
    if loss == "bce":
        return nn.BCEWithLogitsLoss()
    if loss == "softmax_ce":
        return nn.CrossEntropyLoss()
    return nn.MSELoss()


def penalty(model, info):
    """The L1 (rate*sum|W|) or L2 (rate/2*sum W**2) penalty on the weights
    (never the biases); its gradient is the engine's."""
    r = info["spec"].get("regularization", {})
    kind, rate = r.get("kind", "none"), r.get("rate", 0.0)
    if kind == "l2":
        return rate / 2 * sum((w * w).sum() for w in _weights(model))
    if kind == "l1":
        return rate * sum(w.abs().sum() for w in _weights(model))
    return torch.zeros(())

#!/usr/bin/env python3
"""PyTorch (CPU, eager) training reference for bench/train.py.

Two modes, one case per process:

  --case mlp|lenet|resnet18 --batch B --iters N   time N training steps
      (zero_grad, forward, cross-entropy, backward, optimizer step) on one
      batch after --warmup steps, as `kiln-train --bench-steps N` does.
      mlp and lenet take the first batch of Fashion-MNIST's training split;
      resnet18 (the 3x32x32 variant: resnet.py's small-image stem) takes
      uniform random images of --shape and the same batch's labels.
  --case lenet-epoch --epochs E --batch B   train LeNet on Fashion-MNIST for E
      epochs as `kiln-train --dataset fashion-mnist` does: shuffled each epoch,
      last partial batch dropped, pixel/255, Xavier(gaussian, in, 2) weights,
      zero biases; the test split after each epoch.

Both modes load the whole data set (training and test split, unsigned bytes,
55 MB) the way Kiln's MNISTIter does, so that the peak RSS of the two sides
holds the same data. Networks: bench/torch_ref.py (MXNet's mlp.py, lenet.py,
resnet.py layer for layer); cross_entropy on the logits has the gradient
(p - onehot)/B of MXNet's SoftmaxOutput with rescale_grad = 1/B. BatchNorm in
training mode (batch statistics, momentum 0.1 = MXNet's 0.9).

Output: per epoch, one JSON line with kiln-train --log-json's keys; then
  bench-train: case=... peak_rss_kb=K rss_kb=R ...
  bench: iters=N min_ms=X median_ms=Y        (step mode; the last line)
peak_rss_kb is getrusage(RUSAGE_SELF).ru_maxrss; import_rss_kb the RSS after
`import torch` (PyPI's CUDA wheel maps ~0.5 GB of libraries before any work).
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref  # noqa: E402


def read_idx(path):
    """LeCun's IDX (unsigned bytes), gzip or plain, as a uint8 tensor."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 8, path + ": not unsigned-byte IDX"
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def fashion_mnist():
    """{train,test}: (images [N,1,28,28] uint8, labels [N] int64), located as
    kiln::locateDataset does."""
    d = os.environ.get("KILN_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"

    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(d, name)):
                return os.path.join(d, name)
        raise SystemExit("torch_train: %s/%s(.gz) missing (dataset-fashion-mnist, or set "
                         "KILN_FASHION_MNIST_DIR)" % (d, stem))

    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = read_idx(find(prefix + "-images-idx3-ubyte")).unsqueeze(1)
        y = read_idx(find(prefix + "-labels-idx1-ubyte")).long()
        out[split] = (x, y)
    return out


def xavier_in2(model):
    """Kiln's (MXNet train_mnist.py's) Xavier(gaussian, in, 2): N(0, 2/fan_in)
    for weights, 0 for biases, BatchNorm's gamma 1 and beta 0."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                fan_in = p.shape[1] * (p[0][0].numel())
                p.normal_(0, (2.0 / fan_in) ** 0.5)
            elif name.endswith("bias"):
                p.zero_()
    return model


def make_model(case, shape):
    if case == "mlp":
        return torch_ref.MLP(shape[1] * shape[2] * shape[3], 10)
    if case.startswith("lenet"):
        return torch_ref.LeNet(10)
    return torch_ref.ResNet(int(case[6:]), 10, height=shape[2])


def make_optimizer(a, model):
    params = [p for p in model.parameters() if p.requires_grad]
    if a.optimizer == "adam":
        return torch.optim.Adam(params, lr=a.lr or 0.001)
    return torch.optim.SGD(params, lr=a.lr or 0.1, momentum=a.momentum)


def train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model.logits(x), y)
    loss.backward()
    opt.step()
    return loss


def memory():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return peak, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True,
                    choices=["mlp", "lenet", "resnet18", "resnet50", "lenet-epoch"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--shape", default="", help="C,H,W of random images (default: the data set's)")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import_rss = memory()[1]  # the interpreter plus torch's libraries, before any data
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    data = fashion_mnist()
    images, labels = data["train"]
    shape = (a.batch,) + (tuple(int(v) for v in a.shape.split(",")) if a.shape
                          else tuple(images.shape[1:]))
    model = xavier_in2(make_model(a.case, shape)).train()
    opt = make_optimizer(a, model)
    info = {"case": a.case, "batch": a.batch, "shape": "x".join(map(str, shape)),
            "optimizer": a.optimizer, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "import_rss_kb": import_rss}

    if a.case == "lenet-epoch":
        n = images.shape[0] // a.batch * a.batch
        g = torch.Generator().manual_seed(a.seed)
        for epoch in range(a.epochs):
            model.train()
            t0 = time.perf_counter()
            order = torch.randperm(images.shape[0], generator=g)
            loss_sum, correct = 0.0, 0
            for i in range(0, n, a.batch):
                idx = order[i:i + a.batch]
                x = images[idx].float().div_(255)
                y = labels[idx]
                opt.zero_grad(set_to_none=True)
                out = model.logits(x)
                loss = F.cross_entropy(out, y)
                loss.backward()
                opt.step()
                loss_sum += loss.item() * a.batch
                correct += (out.argmax(1) == y).sum().item()
            seconds = time.perf_counter() - t0
            model.eval()
            tx, ty = data["test"]
            val = 0
            with torch.no_grad():
                for i in range(0, tx.shape[0], a.batch):
                    out = model.logits(tx[i:i + a.batch].float().div_(255))
                    val += (out.argmax(1) == ty[i:i + a.batch]).sum().item()
            print(json.dumps({"epoch": epoch + 1, "train_loss": loss_sum / n,
                              "train_acc": correct / n, "val_acc": val / tx.shape[0],
                              "seconds": seconds, "samples_per_sec": n / seconds}), flush=True)
        peak, rss = memory()
        print("bench-train: %s peak_rss_kb=%d rss_kb=%d" % (
            " ".join("%s=%s" % kv for kv in info.items()), peak, rss))
        return 0

    y = labels[:a.batch].clone()
    if a.shape:
        x = torch.rand(shape)
    else:
        x = images[:a.batch].float().div_(255)
    for _ in range(a.warmup):
        train_step(model, opt, x, y)
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        train_step(model, opt, x, y)
        times.append((time.perf_counter() - t0) * 1e3)
    peak, rss = memory()
    print("bench-train: %s peak_rss_kb=%d rss_kb=%d" % (
        " ".join("%s=%s" % kv for kv in info.items()), peak, rss))
    print("bench: iters=%d min_ms=%.3f median_ms=%.3f" % (a.iters, min(times),
                                                          statistics.median(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

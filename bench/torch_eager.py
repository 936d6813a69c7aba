#!/usr/bin/env python3
"""PyTorch eager reference for bench/eager.py (the mirror of kiln-eager-bench).

  torch_eager.py overhead [--size N] [--iters N] [--reps R] [--threads T]
      c = a + b, a += b and a * s on float32 tensors of N elements, back to
      back from Python; per-op microseconds (median over reps)
  torch_eager.py mlp [--batch B] [--iters N] [--threads T]
      one imperative MLP (784-128-64-10) step on a fixed batch: forward with
      autograd, softmax cross-entropy summed over the batch (MXNet
      SoftmaxOutput's gradient), backward, SGD through torch.no_grad(),
      the loss read back

Prints key=value lines, then `bench: iters=N min_ms=X median_ms=Y` last.
"""
import argparse
import statistics
import time

import torch


def overhead(o):
    a = torch.rand(o.size)
    b = torch.rand(o.size)
    acc = torch.zeros(o.size)
    for _ in range(100):
        c = a + b
        acc += b
        d = a * 0.5
    times = {"add": [], "add_inplace": [], "mul_scalar": []}
    for _ in range(o.reps):
        t0 = time.perf_counter()
        for _ in range(o.iters):
            c = a + b
        t1 = time.perf_counter()
        for _ in range(o.iters):
            acc += b
        t2 = time.perf_counter()
        for _ in range(o.iters):
            d = a * 0.5
        t3 = time.perf_counter()
        times["add"].append((t1 - t0) / o.iters * 1e6)
        times["add_inplace"].append((t2 - t1) / o.iters * 1e6)
        times["mul_scalar"].append((t3 - t2) / o.iters * 1e6)
    del c, d
    for name, us in times.items():
        print("overhead: op=%s size=%d median_us=%.3f min_us=%.3f" %
              (name, o.size, statistics.median(us), min(us)))
    ms = sorted(us / 1e3 for us in times["add"])
    print("bench: iters=%d min_ms=%.6f median_ms=%.6f" % (len(ms), ms[0], ms[len(ms) // 2]))


def mlp(o):
    g = torch.Generator().manual_seed(1)
    def dense(i, n):
        w = (torch.rand(n, i, generator=g) * 0.14 - 0.07).requires_grad_()
        b = torch.zeros(n, requires_grad=True)
        return w, b
    params = [*dense(784, 128), *dense(128, 64), *dense(64, 10)]
    x = torch.rand(o.batch, 784, generator=g)
    y = torch.randint(0, 10, (o.batch,), generator=g)
    lr = 0.1 / o.batch

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h = torch.relu(torch.nn.functional.linear(x, w1, b1))
        h = torch.relu(torch.nn.functional.linear(h, w2, b2))
        out = torch.nn.functional.linear(h, w3, b3)
        loss = torch.nn.functional.cross_entropy(out, y, reduction="sum")
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    for _ in range(3):
        step()
    ms = []
    for _ in range(o.iters):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    print("mlp: batch=%d" % o.batch)
    print("bench: iters=%d min_ms=%.6f median_ms=%.6f" % (len(ms), ms[0], ms[len(ms) // 2]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["overhead", "mlp"])
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    print("torch: version=%s threads=%d" % (torch.__version__, torch.get_num_threads()))
    overhead(o) if o.mode == "overhead" else mlp(o)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch (CPU, eager, inference_mode) reference for bench/run.py.

One case per process; prints one JSON line:
  {"case":..., "threads":T, "iters":N, "min_ms":X, "median_ms":Y, "torch":"2.x", ...}

Networks are re-written from MXNet's example/image-classification/symbols
(mlp.py, lenet.py, resnet.py) to match Kiln's zoo layer for layer: LeNet with
tanh and max pooling; pre-activation ResNet v2 (BatchNorm on the data, 7x7
stem -- or, for images of height <= 32, resnet.py's 3x3 stride-1 stem without
BatchNorm, ReLU and pooling --, basic blocks for 18 layers, bottlenecks for
50), global average pool, FC, softmax. BatchNorm runs in eval mode (running
statistics), as Kiln's inference does. bench/torch_train.py trains the same
classes (`logits` is everything before the softmax).
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """mlp.py: 128-relu-64-relu-classes."""

    def __init__(self, inputs=784, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(inputs, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, classes)

    def logits(self, x):
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))

    def forward(self, x):
        return F.softmax(self.logits(x), dim=1)


class LeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, classes)

    def logits(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2, 2)
        x = F.max_pool2d(torch.tanh(self.conv2(x)), 2, 2)
        return self.fc2(torch.tanh(self.fc1(x.flatten(1))))

    def forward(self, x):
        return F.softmax(self.logits(x), dim=1)


def bn(c):
    return nn.BatchNorm2d(c, eps=2e-5, momentum=0.1)


class Unit(nn.Module):
    """resnet.py residual_unit (pre-activation)."""

    def __init__(self, cin, cout, stride, dim_match, bottleneck):
        super().__init__()
        self.bottleneck = bottleneck
        self.bn1 = bn(cin)
        if bottleneck:
            q = int(cout * 0.25)
            self.conv1 = nn.Conv2d(cin, q, 1, bias=False)
            self.bn2 = bn(q)
            self.conv2 = nn.Conv2d(q, q, 3, stride, 1, bias=False)
            self.bn3 = bn(q)
            self.conv3 = nn.Conv2d(q, cout, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn2 = bn(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.sc = None if dim_match else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        act1 = F.relu(self.bn1(x))
        if self.bottleneck:
            y = self.conv1(act1)
            y = self.conv2(F.relu(self.bn2(y)))
            y = self.conv3(F.relu(self.bn3(y)))
        else:
            y = self.conv1(act1)
            y = self.conv2(F.relu(self.bn2(y)))
        return y + (x if self.sc is None else self.sc(act1))


class ResNet(nn.Module):
    def __init__(self, layers, classes=1000, height=224):
        super().__init__()
        self.small = height <= 32
        if layers >= 50:
            filters, bottleneck = [64, 256, 512, 1024, 2048], True
        else:
            filters, bottleneck = [64, 64, 128, 256, 512], False
        units = {18: [2, 2, 2, 2], 50: [3, 4, 6, 3]}[layers]
        self.bn_data = bn(3)  # fix_gamma=True: gamma stays 1, beta learns
        self.bn_data.weight.requires_grad_(False)
        if self.small:
            self.conv0 = nn.Conv2d(3, filters[0], 3, 1, 1, bias=False)
        else:
            self.conv0 = nn.Conv2d(3, filters[0], 7, 2, 3, bias=False)
            self.bn0 = bn(filters[0])
        blocks = []
        cin = filters[0]
        for i, n in enumerate(units):
            s = 1 if i == 0 else 2
            blocks.append(Unit(cin, filters[i + 1], s, False, bottleneck))
            for _ in range(n - 1):
                blocks.append(Unit(filters[i + 1], filters[i + 1], 1, True, bottleneck))
            cin = filters[i + 1]
        self.blocks = nn.Sequential(*blocks)
        self.bn1 = bn(cin)
        self.fc1 = nn.Linear(cin, classes)

    def logits(self, x):
        x = self.conv0(self.bn_data(x))
        if not self.small:
            x = F.max_pool2d(F.relu(self.bn0(x)), 3, 2, 1)
        x = self.blocks(x)
        x = F.relu(self.bn1(x))
        return self.fc1(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def forward(self, x):
        return F.softmax(self.logits(x), dim=1)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:  # fixed gamma
                continue
            p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.2)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True,
                    choices=["lenet", "resnet18", "resnet50", "fused", "sgemm"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=256, help="sgemm M=N=K")
    ap.add_argument("--n", type=int, default=16 * 1024 * 1024, help="fused elements")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    if a.case in ("lenet", "resnet18", "resnet50"):
        if a.case == "lenet":
            model, shape = LeNet(), (a.batch, 1, 28, 28)
        else:
            model, shape = ResNet(int(a.case[6:])), (a.batch, 3, 224, 224)
        model = randomize(model, 7).eval()
        x = torch.rand(shape)
        fn = lambda: model(x)
    elif a.case == "fused":
        ta, tb, tc = (torch.rand(a.n) - 0.5 for _ in range(3))
        fn = lambda: torch.relu(ta * tb + tc) * 0.5
    else:
        x = torch.rand(a.size, a.size)
        w = torch.rand(a.size, a.size)
        fn = lambda: F.linear(x, w)

    times = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            fn()
        for _ in range(a.iters):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"case": a.case, "threads": torch.get_num_threads(), "iters": a.iters,
                      "min_ms": min(times), "median_ms": statistics.median(times),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The PyTorch peer of bench_focal: torchvision.ops.sigmoid_focal_loss forward+backward on the
shape bench_focal times (Debian's python3-torch and python3-torchvision).

    focal_peer.py --threads T --repeats R --batch N --anchors A --classes K

Prints one JSON object: best seconds of R timed calls after warm-up, like the C++ side.
"""
import argparse
import json
import time

import torch
from torchvision.ops import sigmoid_focal_loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--anchors", type=int, default=12276)
    parser.add_argument("--classes", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    shape = (args.batch, args.anchors, args.classes)
    x = (torch.randn(shape, generator=gen) * 1.5 - 4.6).requires_grad_()
    u = torch.rand(args.batch, args.anchors, generator=gen)
    labels = torch.randint(0, args.classes, (args.batch, args.anchors), generator=gen)
    positive = u < 0.01
    valid = (u >= 0.01) & (u < 0.05)  # the ignored band
    valid = (~valid).float()
    targets = torch.nn.functional.one_hot(labels, args.classes).float() * positive[..., None].float()
    normalizer = max(1.0, float(positive.sum()))

    def step():
        x.grad = None
        loss = (sigmoid_focal_loss(x, targets, alpha=0.25, gamma=2.0, reduction="none") * valid[..., None]).sum()
        (loss / normalizer).backward()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": min(times), "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()

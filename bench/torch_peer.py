#!/usr/bin/python3
"""The PyTorch CPU peer for focal's benchmarks (Debian's python3-torch, oneDNN convolutions).

  torch_peer.py conv --threads T --repeats R --shapes JSON    forward+backward per conv shape
  torch_peer.py backbone --threads T --repeats R --batch N --size S
                                                               tiny backbone + FPN forward+backward
  torch_peer.py train-step --threads T --repeats R --targets FILE.safetensors
                                                               one tiny RetinaNet training step

Prints one JSON object on stdout: best seconds per case (best of R after warm-up), like
the C++ side, so both are measured the same way.
"""
import argparse
import json
import time

import torch

import resource

import torchvision

from torch_tiny import BackboneFpn, RetinaNetTiny


def best_seconds(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_conv(args):
    results = []
    gen = torch.Generator().manual_seed(0)
    for s in json.loads(args.shapes):
        n, c, h, w, o, k, stride, pad, bias, input_grad = (s[key] for key in
            ("n", "c", "h", "w", "o", "k", "stride", "padding", "bias", "input_grad"))
        x = torch.randn(n, c, h, w, generator=gen).requires_grad_(input_grad)
        weight = torch.randn(o, c, k, k, generator=gen).requires_grad_()
        b = torch.randn(o, generator=gen).requires_grad_() if bias else None
        with torch.no_grad():
            dy = torch.randn_like(torch.nn.functional.conv2d(x, weight, b, stride, pad))

        def step():
            y = torch.nn.functional.conv2d(x, weight, b, stride, pad)
            y.backward(dy)

        results.append(best_seconds(step, args.repeats))
    return {"seconds": results}


def bench_backbone(args):
    torch.manual_seed(0)
    model = BackboneFpn().train()
    x = torch.randn(args.batch, 3, args.size, args.size)
    with torch.no_grad():
        outputs = model(x)
    grads = [torch.randn_like(p) for p in outputs]

    def step():
        model.zero_grad(set_to_none=True)
        torch.autograd.backward(model(x), grads)

    return {"seconds": best_seconds(step, args.repeats)}


def bench_train_step(args):
    """One RetinaNet training step on fixed targets: forward, sigmoid focal loss (torchvision)
    over non-ignored anchors + smooth L1 (beta 1/9) over positives, both / #positives,
    backward, SGD (momentum .9, wd 1e-4). Targets come from the C++ side (a safetensors file)."""
    from torch_tiny import read_safetensors

    torch.manual_seed(0)
    model = RetinaNetTiny().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    t, _ = read_safetensors(args.targets)
    x, labels, deltas = t["images"], t["labels"].long(), t["box_deltas"]
    valid = labels != -2
    positive = labels >= 0
    onehot = torch.zeros(*labels.shape, 20)
    onehot[positive] = torch.nn.functional.one_hot(labels[positive], 20).float()
    num_pos = max(1.0, float(positive.sum()))

    def step():
        opt.zero_grad(set_to_none=True)
        cls, box = model(x)
        loss_cls = torchvision.ops.sigmoid_focal_loss(cls[valid], onehot[valid], reduction="sum") / num_pos
        loss_box = torch.nn.functional.smooth_l1_loss(box[positive], deltas[positive], beta=1 / 9, reduction="sum") / num_pos
        (loss_cls + loss_box).backward()
        opt.step()

    seconds = best_seconds(step, args.repeats)
    model.eval()
    one = x[:1]
    with torch.no_grad():
        infer = best_seconds(lambda: model(one), args.repeats)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "inference_seconds": infer, "peak_rss_mb": peak_kb / 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["conv", "backbone", "train-step"])
    parser.add_argument("--targets", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shapes", default="[]")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    modes = {"conv": bench_conv, "backbone": bench_backbone, "train-step": bench_train_step}
    result = modes[args.mode](args)
    result.update(torch=torch.__version__, threads=torch.get_num_threads(), mkldnn=torch.backends.mkldnn.is_available())
    print(json.dumps(result))


if __name__ == "__main__":
    main()

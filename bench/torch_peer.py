#!/usr/bin/python3
"""The PyTorch CPU peer for focal's benchmarks (Debian's python3-torch, oneDNN convolutions).

  torch_peer.py conv --threads T --repeats R --shapes JSON    forward+backward per conv shape
  torch_peer.py backbone --threads T --repeats R --batch N --size S
                                                               tiny backbone + FPN forward+backward

Prints one JSON object on stdout: best seconds per case (best of R after warm-up), like
the C++ side, so both are measured the same way.
"""
import argparse
import json
import time

import torch

from torch_tiny import BackboneFpn


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["conv", "backbone"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shapes", default="[]")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = bench_conv(args) if args.mode == "conv" else bench_backbone(args)
    result.update(torch=torch.__version__, threads=torch.get_num_threads(), mkldnn=torch.backends.mkldnn.is_available())
    print(json.dumps(result))


if __name__ == "__main__":
    main()

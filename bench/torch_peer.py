#!/usr/bin/python3
"""The PyTorch peer for focal's benchmarks: on the CPU (Debian's python3-torch, oneDNN
convolutions), or with --device cuda on the GPU (a torch built with CUDA; eager fp32, cuDNN, TF32 off).

  torch_peer.py conv --threads T --shapes JSON --serve       forward+backward per conv shape
  torch_peer.py backbone --threads T --batch N --size S --serve
                                                              tiny backbone + FPN forward+backward
  torch_peer.py train-step --threads T --targets FILE.safetensors [--device cuda] --serve
                                                              one tiny RetinaNet training step;
                                                              case 1: inference on one image

Each mode builds a list of cases, then serves the C++ benchmark (bench/peer.h), which times
its own step and the peer's in alternation: it prints {"cases": n, ...} once ready, answers
"time i" with the seconds one run of case i took, and "done" with {"peak_rss_mb": ...} (and
"peak_device_mb", torch.cuda.max_memory_allocated, on cuda). On cuda each timed run is
bracketed by torch.cuda.synchronize(), so it measures the GPU's work, not the launches.
A torch without CUDA asked for cuda says so on stderr in one line and exits 3.
"""
import argparse
import json
import resource
import sys
import time

import torch

import torchvision

from torch_tiny import BackboneFpn, RetinaNetTiny


def synchronize():
    """Waits for the GPU's queued work (a no-op on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class Case:
    """One timed step; prepare() runs before the clock starts (a mode switch, say)."""

    def __init__(self, run, prepare=None):
        self.run, self.prepare = run, prepare

    def seconds(self):
        if self.prepare:
            self.prepare()
        synchronize()
        start = time.perf_counter()
        self.run()
        synchronize()
        return time.perf_counter() - start


def best_seconds(case, repeats, warmup=2):
    times = [case.seconds() for _ in range(warmup + repeats)]
    return min(times[warmup:])


def bench_conv(args):
    cases = []
    gen = torch.Generator().manual_seed(0)
    for s in json.loads(args.shapes):
        n, c, h, w, o, k, stride, pad, bias, input_grad = (s[key] for key in
            ("n", "c", "h", "w", "o", "k", "stride", "padding", "bias", "input_grad"))
        x = torch.randn(n, c, h, w, generator=gen).requires_grad_(input_grad)
        weight = torch.randn(o, c, k, k, generator=gen).requires_grad_()
        b = torch.randn(o, generator=gen).requires_grad_() if bias else None
        with torch.no_grad():
            dy = torch.randn_like(torch.nn.functional.conv2d(x, weight, b, stride, pad))

        def step(x=x, weight=weight, b=b, stride=stride, pad=pad, dy=dy):
            y = torch.nn.functional.conv2d(x, weight, b, stride, pad)
            y.backward(dy)

        cases.append(Case(step))
    return cases


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

    return [Case(step)]


def bench_train_step(args):
    """One RetinaNet training step on fixed targets: forward, sigmoid focal loss (torchvision)
    over non-ignored anchors + smooth L1 (beta 1/9) over positives, both / #positives,
    backward, SGD (momentum .9, wd 1e-4). Targets come from the C++ side (a safetensors file)."""
    from torch_tiny import read_safetensors

    torch.manual_seed(0)
    device = torch.device(args.device)
    model = RetinaNetTiny().train().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    t, _ = read_safetensors(args.targets)
    x, labels, deltas = t["images"].to(device), t["labels"].long().to(device), t["box_deltas"].to(device)
    valid = labels != -2
    positive = labels >= 0
    onehot = torch.zeros(*labels.shape, 20, device=device)
    onehot[positive] = torch.nn.functional.one_hot(labels[positive], 20).float()
    num_pos = max(1.0, float(positive.sum()))

    def step():
        opt.zero_grad(set_to_none=True)
        cls, box = model(x)
        loss_cls = torchvision.ops.sigmoid_focal_loss(cls[valid], onehot[valid], reduction="sum") / num_pos
        loss_box = torch.nn.functional.smooth_l1_loss(box[positive], deltas[positive], beta=1 / 9, reduction="sum") / num_pos
        (loss_cls + loss_box).backward()
        opt.step()

    one = x[:1]

    def infer():  # the outputs read back to the host, as focal's predict() does
        with torch.no_grad():
            cls, box = model(one)
            cls.cpu(), box.cpu()

    return [Case(step, prepare=model.train), Case(infer, prepare=model.eval)]


def serve(cases, info):
    print(json.dumps(dict(info, cases=len(cases))), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[:1] == ["time"]:
            print(cases[int(command[1])].seconds(), flush=True)
        elif command[:1] == ["done"]:
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            totals = {"peak_rss_mb": peak_kb / 1024}
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                totals["peak_device_mb"] = torch.cuda.max_memory_allocated() / 2**20
            print(json.dumps(totals), flush=True)
            return
    # End of input without "done": the benchmark has gone; nothing to answer.


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["conv", "backbone", "train-step"])
    parser.add_argument("--targets", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", default="[]")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where train-step runs")
    parser.add_argument("--serve", action="store_true", help="answer a benchmark's requests (bench/peer.h)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"torch_peer: torch {torch.__version__} has no usable CUDA (built for CUDA {torch.version.cuda})",
              file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        # Plain fp32 as focal computes: cuDNN's convolutions take TF32 tensor cores by
        # default (10-bit mantissas), which would be another, cheaper arithmetic.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    modes = {"conv": bench_conv, "backbone": bench_backbone, "train-step": bench_train_step}
    cases = modes[args.mode](args)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(),
            "device": args.device}
    if args.device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
        info["tf32"] = torch.backends.cudnn.allow_tf32
    if args.serve:
        serve(cases, info)
    else:  # by hand: best of 5 of each case
        print(json.dumps(dict(info, seconds=[best_seconds(c, 5) for c in cases])))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Converts a torchvision ResNet-18/34 checkpoint (.pth) to the safetensors file that
`focal train --backbone-weights` loads into the resnet18 / resnet34 presets' backbone.

    /usr/bin/python3 scripts/import_torchvision.py resnet18-f37072fd.pth resnet18.safetensors

The names stay torchvision's (conv1.weight, layer2.0.downsample.1.running_var, ...): focal's
ResNet (layers/resnet.h) uses them. The classifier (fc.*) and the batch-norm counters
(*.num_batches_tracked) are dropped, since a detector has no use for them. Every other key
must be one of torchvision's resnet18 or resnet34 with its shape, or the conversion stops
naming the keys that do not fit. The output is written to a temporary file and renamed
when complete; an existing output is kept unless --force.

Needs Debian's python3-torch and python3-torchvision (for the architecture only: nothing is
downloaded). Exit status 0 on success, 1 with a message on bad input.
"""
import argparse
import json
import os
import struct
import sys
import tempfile

import torch
import torchvision

ARCHS = {"resnet18": torchvision.models.resnet18, "resnet34": torchvision.models.resnet34}
DROPPED = ("fc.weight", "fc.bias")


class ImportError_(Exception):
    """A checkpoint that cannot be converted; the message says why."""


def expected_shapes(arch):
    """torchvision's parameter and buffer names and shapes for `arch`, without the classifier."""
    model = ARCHS[arch]()  # random weights: only the names and shapes are read
    return {
        name: tuple(t.shape)
        for name, t in model.state_dict().items()
        if name not in DROPPED and not name.endswith("num_batches_tracked")
    }


def load_state_dict(path):
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # a truncated file, not a torch file, ...
        raise ImportError_(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {e})")
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]  # a training checkpoint that wraps the weights
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ImportError_(f"{path}: expected a state dict (name -> tensor), got {type(obj).__name__}")
    return obj


def pick_arch(state, asked):
    if asked:
        return asked
    return "resnet34" if "layer1.2.conv1.weight" in state else "resnet18"


def check(state, arch, path):
    """Returns the tensors to write, in torchvision's order; raises naming every misfit."""
    want = expected_shapes(arch)
    kept = {k: v for k, v in state.items() if k not in DROPPED and not k.endswith("num_batches_tracked")}
    problems = []
    missing = [k for k in want if k not in kept]
    unexpected = [k for k in kept if k not in want]
    if missing:
        problems.append(f"missing {len(missing)} key(s) of {arch}: " + ", ".join(missing[:8]))
    if unexpected:
        problems.append(f"{len(unexpected)} key(s) that {arch} does not have: " + ", ".join(unexpected[:8]))
    for k, shape in want.items():
        if k in kept and tuple(kept[k].shape) != shape:
            problems.append(f"'{k}' has shape {list(kept[k].shape)}, {arch} expects {list(shape)}")
        elif k in kept and not kept[k].is_floating_point():
            problems.append(f"'{k}' is {kept[k].dtype}, expected floating point")
    if problems:
        raise ImportError_(f"{path}: does not fit torchvision's {arch}:\n  " + "\n  ".join(problems))
    return [(k, kept[k].detach().to(torch.float32).contiguous()) for k in want]


def safetensors_bytes(tensors, metadata):
    """The safetensors layout: u64 header length, JSON header, raw little-endian data."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors:
        blob = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_atomically(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="torchvision .pth state dict")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--arch", choices=sorted(ARCHS), help="default: from the keys (layer1.2 -> resnet34)")
    parser.add_argument("--force", action="store_true", help="replace an existing output")
    args = parser.parse_args(argv)
    try:
        if os.path.exists(args.output) and not args.force:
            raise ImportError_(f"{args.output} exists; --force replaces it")
        if os.path.abspath(args.output) == os.path.abspath(args.checkpoint):
            raise ImportError_(f"{args.output} is the input checkpoint")
        state = load_state_dict(args.checkpoint)
        arch = pick_arch(state, args.arch)
        tensors = check(state, arch, args.checkpoint)
        metadata = {"format": "torchvision", "arch": arch, "source": os.path.basename(args.checkpoint)}
        write_atomically(args.output, safetensors_bytes(tensors, metadata))
    except (ImportError_, OSError) as e:
        print(f"import_torchvision: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {arch}, {len(tensors)} tensors (fc and num_batches_tracked dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

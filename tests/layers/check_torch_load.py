#!/usr/bin/python3
"""Loads a focal checkpoint of the tiny backbone + FPN into the PyTorch peer model
(bench/torch_tiny.py) and checks PyTorch computes the same pyramid from the same input.

Usage: check_torch_load.py MODEL.safetensors PROBE.safetensors
PROBE holds "input" (N, 3, H, W) and focal's outputs "p3".."p7" in eval mode.
Prints one line and exits 0 when everything matches, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import torch  # noqa: E402
from torch_tiny import BackboneFpn, read_safetensors  # noqa: E402

weights, _ = read_safetensors(sys.argv[1])
probe, _ = read_safetensors(sys.argv[2])
model = BackboneFpn().eval()
state = weights  # focal names its modules "backbone" and "fpn", as the peer does
result = model.load_state_dict(state, strict=False)
missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
if missing or result.unexpected_keys:
    print("key mismatch: missing", missing, "unexpected", result.unexpected_keys)
    sys.exit(1)
for name, tensor in model.state_dict().items():
    if name.endswith("num_batches_tracked"):
        continue
    if not torch.equal(tensor, state[name]):
        print("value differs after loading:", name)
        sys.exit(1)
with torch.no_grad():
    outputs = model(probe["input"])
worst = 0.0
for i, out in enumerate(outputs):
    ours = probe[f"p{i + 3}"]
    worst = max(worst, ((out - ours).abs().max() / (ours.abs().max() + 1e-6)).item())
print(f"loaded {len(weights)} tensors; pyramid max relative difference {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)

"""The PyTorch peer of focal's `tiny` preset (docs/design.md): tools/focal_torch.py's mirror of
the model with the tiny configuration, so a focal checkpoint loads into it key for key.

Used by the benchmarks (bench_conv, bench_backbone, bench_train_step through torch_peer.py)
and by the checkpoint test that loads a focal checkpoint in PyTorch. Requires Debian's
python3-torch; run with /usr/bin/python3.
"""
import math
import os
import sys

from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from focal_torch import Fpn, PlainBackbone, RetinaNet, read_safetensors  # noqa: E402,F401

# detector/retinanet.cpp's "tiny" preset, as config.json writes it.
TINY = {
    "image_size": 256,
    "backbone": {"kind": "plain", "in_channels": 3, "stem_channels": 32, "stage_channels": [64, 128, 256, 256],
                 "blocks_per_stage": [1, 1, 1, 1]},
    "fpn": {"in_channels": [128, 256, 256], "channels": 128, "extra_levels": 2},
    "anchors": {"scales": [1.0, 2 ** (1 / 3), 2 ** (2 / 3)], "ratios": [0.5, 1.0, 2.0]},
    "num_classes": 20,
    "head_channels": 128,
    "head_convs": 2,
    "head_norm_groups": 0,
    "softmax": False,
}


class BackboneFpn(nn.Module):
    """The tiny backbone and FPN: images -> P3..P7."""

    def __init__(self):
        super().__init__()
        self.backbone = PlainBackbone(TINY["backbone"])
        self.fpn = Fpn(TINY["fpn"])

    def forward(self, x):
        return self.fpn(self.backbone(x)[1:])


def RetinaNetTiny(num_classes=20, prior=0.01):
    """The tiny preset's RetinaNet initialised as focal does it: head weights N(0, 0.01), biases
    0, the classification bias at the prior -log((1 - pi) / pi)."""
    model = RetinaNet(dict(TINY, num_classes=num_classes))
    for m in list(model.head.cls_subnet) + list(model.head.box_subnet) + [model.head.cls_score, model.head.box_pred]:
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    nn.init.constant_(model.head.cls_score.bias, -math.log((1 - prior) / prior))
    return model

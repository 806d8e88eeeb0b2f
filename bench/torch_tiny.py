"""The PyTorch peer of focal's `tiny` backbone + FPN (docs/design.md), built module for module
with the same parameter names, so a focal checkpoint loads into it key for key.

Used by the benchmarks (bench_conv, bench_backbone) and by the checkpoint test that loads
a focal checkpoint in PyTorch. Requires Debian's python3-torch; run with /usr/bin/python3.
"""
import json
import math
import struct

import numpy as np
import torch
from torch import nn


def conv_bn_relu(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class Backbone(nn.Module):
    def __init__(self, stem=32, stages=(64, 128, 256, 256), blocks=(1, 1, 1, 1)):
        super().__init__()
        self.stem = conv_bn_relu(3, stem, 2)
        layers, cin = [], stem
        for cout, n in zip(stages, blocks):
            layers.append(nn.Sequential(conv_bn_relu(cin, cout, 2), *[BasicBlock(cout) for _ in range(n)]))
            cin = cout
        self.stages = nn.ModuleList(layers)

    def forward(self, x):
        out, y = [], self.stem(x)
        for stage in self.stages:
            y = stage(y)
            out.append(y)
        return out


class Fpn(nn.Module):
    def __init__(self, in_channels=(128, 256, 256), channels=128):
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.output = nn.ModuleList(nn.Conv2d(channels, channels, 3, 1, 1) for _ in in_channels)
        self.p6 = nn.Conv2d(channels, channels, 3, 2, 1)
        self.p7 = nn.Conv2d(channels, channels, 3, 2, 1)

    def forward(self, features):
        inner = [None] * len(features)
        inner[-1] = self.lateral[-1](features[-1])
        for i in range(len(features) - 2, -1, -1):
            lateral = self.lateral[i](features[i])
            up = nn.functional.interpolate(inner[i + 1], scale_factor=2, mode="nearest")
            inner[i] = lateral + up[:, :, : lateral.shape[2], : lateral.shape[3]]
        out = [conv(x) for conv, x in zip(self.output, inner)]
        out.append(self.p6(out[-1]))
        out.append(self.p7(torch.relu(out[-1])))
        return out


class BackboneFpn(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.fpn = Fpn()

    def forward(self, x):
        c = self.backbone(x)
        return self.fpn(c[1:])


class RetinaNetTiny(nn.Module):
    """The tiny preset's RetinaNet: BackboneFpn plus the shared heads (2 x conv3x3 128 + ReLU,
    then conv3x3 to A*K scores and A*4 deltas), N(0, 0.01) weights, prior bias on the scores."""

    def __init__(self, num_classes=20, anchors=9, prior=0.01):
        super().__init__()
        self.body = BackboneFpn()
        self.num_classes, self.anchors = num_classes, anchors

        def subnet():
            layers = []
            for _ in range(2):
                conv = nn.Conv2d(128, 128, 3, 1, 1)
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
            return nn.Sequential(*layers)

        self.cls_subnet, self.box_subnet = subnet(), subnet()
        self.cls_score = nn.Conv2d(128, anchors * num_classes, 3, 1, 1)
        self.box_pred = nn.Conv2d(128, anchors * 4, 3, 1, 1)
        for conv in (self.cls_score, self.box_pred):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)
        nn.init.constant_(self.cls_score.bias, -math.log((1 - prior) / prior))

    def forward(self, x):
        cls, box = [], []
        n = x.shape[0]
        for p in self.body(x):
            cls.append(self.cls_score(self.cls_subnet(p)).permute(0, 2, 3, 1).reshape(n, -1, self.num_classes))
            box.append(self.box_pred(self.box_subnet(p)).permute(0, 2, 3, 1).reshape(n, -1, 4))
        return torch.cat(cls, 1), torch.cat(box, 1)


def read_safetensors(path):
    """A plain reader (the safetensors package is not in Debian 12): name -> torch tensor."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    types = {"F32": np.float32, "I32": np.int32}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=types[entry["dtype"]]).reshape(entry["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out, header.get("__metadata__", {})

"""The PyTorch mirror of focal's RetinaNet, built from a run's config.json ("model" section)
module for module with focal's parameter names, so that the run's checkpoint loads key for
key. `focal export` uses it to write ONNX (tools/export_onnx.py).

It mirrors detector/retinanet.cpp, layers/backbone.cpp, layers/resnet.cpp and layers/fpn.cpp;
a change there must be made here too (tests/tools/test_export.cpp compares the two through
the exported file). Requires Debian's python3-torch; run with /usr/bin/python3.
"""
import json
import struct

import numpy as np
import torch
from torch import nn


def norm(channels, groups):  # focal's make_norm: batch norm, or group norm when groups > 0
    return nn.GroupNorm(groups, channels) if groups > 0 else nn.BatchNorm2d(channels)


def conv_bn_relu(cin, cout, stride, groups=0):  # focal's conv_bn_relu: 3x3, no bias
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout, groups), nn.ReLU())


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, groups=0):
        super().__init__()
        self.norm_names = ("gn1", "gn2") if groups > 0 else ("bn1", "bn2")  # focal's state names
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        setattr(self, self.norm_names[0], norm(cout, groups))
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        setattr(self, self.norm_names[1], norm(cout, groups))
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), norm(cout, groups))

    def forward(self, x):
        norm1, norm2 = (getattr(self, name) for name in self.norm_names)
        y = torch.relu(norm1(self.conv1(x)))
        y = norm2(self.conv2(y))
        return torch.relu(y + (self.downsample(x) if self.downsample is not None else x))


class PlainBackbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        groups = c.get("norm_groups", 0)
        self.stem = conv_bn_relu(c["in_channels"], c["stem_channels"], 2, groups)
        stages, cin = [], c["stem_channels"]
        for cout, n in zip(c["stage_channels"], c["blocks_per_stage"]):
            blocks = [BasicBlock(cout, cout, 1, groups) for _ in range(n)]
            stages.append(nn.Sequential(conv_bn_relu(cin, cout, 2, groups), *blocks))
            cin = cout
        self.stages = nn.ModuleList(stages)

    def forward(self, x):
        out, y = [], self.stem(x)
        for stage in self.stages:
            y = stage(y)
            out.append(y)
        return out


class ResNet(nn.Module):
    """torchvision's ResNet-18/34 without the classifier, returning layer1..layer4's outputs."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c["in_channels"], c["stem_channels"], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c["stem_channels"])
        cin = c["stem_channels"]
        for i, (cout, n) in enumerate(zip(c["stage_channels"], c["blocks_per_stage"])):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if i > 0 and b == 0 else 1))
                cin = cout
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_layers = len(c["stage_channels"])

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        out = []
        for i in range(self.num_layers):
            y = getattr(self, f"layer{i + 1}")(y)
            out.append(y)
        return out


class Fpn(nn.Module):
    def __init__(self, c):
        super().__init__()
        ch = c["channels"]
        self.lateral = nn.ModuleList(nn.Conv2d(cin, ch, 1) for cin in c["in_channels"])
        self.output = nn.ModuleList(nn.Conv2d(ch, ch, 3, 1, 1) for _ in c["in_channels"])
        self.p6 = nn.Conv2d(ch, ch, 3, 2, 1) if c["extra_levels"] >= 1 else None
        self.p7 = nn.Conv2d(ch, ch, 3, 2, 1) if c["extra_levels"] >= 2 else None

    def forward(self, features):
        inner = [None] * len(features)
        inner[-1] = self.lateral[-1](features[-1])
        for i in range(len(features) - 2, -1, -1):
            lateral = self.lateral[i](features[i])
            up = nn.functional.interpolate(inner[i + 1], scale_factor=2.0, mode="nearest")
            inner[i] = lateral + up[:, :, : lateral.shape[2], : lateral.shape[3]]
        out = [conv(x) for conv, x in zip(self.output, inner)]
        if self.p6 is not None:
            out.append(self.p6(out[-1]))
        if self.p7 is not None:
            out.append(self.p7(torch.relu(out[-1])))
        return out


class RetinaNet(nn.Module):
    """forward(images (N, 3, S, S)) -> cls_logits (N, anchors, K or K + 1), box_deltas (N, anchors, 4),
    all levels concatenated, locations row-major then anchors: focal's HeadOutputs."""

    def __init__(self, config):
        super().__init__()
        b = config["backbone"]
        kind = b.get("kind", "plain")
        if kind not in ("plain", "resnet"):
            raise ValueError(f"unknown backbone kind '{kind}'")
        self.backbone = PlainBackbone(b) if kind == "plain" else ResNet(b)
        self.fpn = Fpn(config["fpn"])
        self.used = len(config["fpn"]["in_channels"])
        k = config["num_classes"]
        self.logits = k + 1 if config["softmax"] else k
        a = len(config["anchors"]["scales"]) * len(config["anchors"]["ratios"])
        ch, fpn_ch, groups = config["head_channels"], config["fpn"]["channels"], config.get("head_norm_groups", 0)

        def subnet():
            layers = []
            for i in range(config["head_convs"]):
                layers.append(nn.Conv2d(fpn_ch if i == 0 else ch, ch, 3, 1, 1))
                if groups > 0:
                    layers.append(nn.GroupNorm(groups, ch))
                layers.append(nn.ReLU())
            return nn.Sequential(*layers)

        out = ch if config["head_convs"] > 0 else fpn_ch
        self.head = nn.Module()
        self.head.cls_subnet = subnet()
        self.head.cls_score = nn.Conv2d(out, a * self.logits, 3, 1, 1)
        self.head.box_subnet = subnet()
        self.head.box_pred = nn.Conv2d(out, a * 4, 3, 1, 1)

    def forward(self, images):
        stages = self.backbone(images)
        cls, box = [], []
        for p in self.fpn(stages[len(stages) - self.used :]):
            n = p.shape[0]
            c = self.head.cls_score(self.head.cls_subnet(p))
            d = self.head.box_pred(self.head.box_subnet(p))
            cls.append(c.permute(0, 2, 3, 1).reshape(n, -1, self.logits))
            box.append(d.permute(0, 2, 3, 1).reshape(n, -1, 4))
        return torch.cat(cls, 1), torch.cat(box, 1)


def read_safetensors(path):
    """A plain reader (the safetensors package is not in Debian 12): (name -> tensor, metadata)."""
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


def load_model(config, weights):
    """The mirror of `config` (config.json's "model") with `weights` (a focal .safetensors), in
    eval mode. Raises ValueError naming the keys that do not fit."""
    model = RetinaNet(config)
    state, _ = read_safetensors(weights)
    mine = model.state_dict()
    missing = [k for k in mine if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in mine]
    misshapen = [k for k in mine if k in state and tuple(state[k].shape) != tuple(mine[k].shape)]
    if missing or extra or misshapen:
        raise ValueError(
            f"{weights} does not fit the model of config.json: missing {missing[:5]}, unexpected {extra[:5]}, "
            f"other shapes {misshapen[:5]}"
        )
    model.load_state_dict(state, strict=False)  # num_batches_tracked: PyTorch's counters, unused in eval
    return model.eval()

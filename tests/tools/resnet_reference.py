"""The reference for tests/tools/test_backbone_weights.cpp: a torchvision ResNet with random
weights (no download), saved as a .pth and converted with scripts/import_torchvision.py as a
user would, and its features on a random input, computed by PyTorch in eval mode.

    /usr/bin/python3 tests/tools/resnet_reference.py ARCH OUT_DIR

writes OUT_DIR/ARCH.pth, OUT_DIR/ARCH.safetensors (the converted weights) and
OUT_DIR/reference.safetensors (input (2, 3, 96, 128) and c2..c5, layer1..layer4's outputs).
The batch norms get random statistics and affine parameters, so that a name or channel mixed
up in the conversion changes the features.
"""
import os
import subprocess
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
import import_torchvision  # noqa: E402  (for its safetensors writer)


def main(arch, out):
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    model.eval()
    os.makedirs(out, exist_ok=True)
    pth = os.path.join(out, arch + ".pth")
    torch.save(model.state_dict(), pth)
    converted = os.path.join(out, arch + ".safetensors")
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "import_torchvision.py"), pth, converted, "--force"], check=True)

    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        y = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        features = []
        for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
            y = layer(y)
            features.append(y)
    tensors = [("input", x)] + [(f"c{i + 2}", f) for i, f in enumerate(features)]
    with open(os.path.join(out, "reference.safetensors"), "wb") as f:
        f.write(import_torchvision.safetensors_bytes(tensors, {"arch": arch}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""`focal export --run RUN --onnx FILE` calls this with the run's model config and weights and
a file of what a consumer needs beside the network (the anchors, the input normalisation, the
box coding), written by focal itself (tools/cmd_export.cpp):

    /usr/bin/python3 tools/export_onnx.py CONFIG.json WEIGHTS.safetensors EXTRAS.safetensors OUT.onnx [--opset N]

The network is the PyTorch mirror of tools/focal_torch.py, exported with torch.onnx.export:
    input  images      (N, 3, S, S) float32, letterboxed and normalised as focal does
    output cls_logits  (N, anchors, K) (K + 1 with a softmax loss, background last)
           box_deltas  (N, anchors, 4) (dx, dy, dw, dh) against each anchor
           anchors     (anchors, 4) x1, y1, x2, y2 in input pixels (constant)
N is dynamic. The rest (class names, mean, std, box coder weights, clamp) goes into the
model's metadata_props. The file is checked with onnx.checker, written to a temporary name
and renamed. Exit status 0, or 1 with a message; 3 when python3-torch or python3-onnx is
missing.
"""
import argparse
import json
import os
import sys
import tempfile
import warnings

try:
    import onnx
    import torch
except ImportError as e:
    print(f"export_onnx: {e.name} is missing (Debian: apt install python3-torch python3-onnx)", file=sys.stderr)
    sys.exit(3)

# torch 1.13 warns about the constant anchors output; the exported graph is checked below.
warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import focal_torch  # noqa: E402


class Exported(torch.nn.Module):
    def __init__(self, model, anchors):
        super().__init__()
        self.model = model
        self.register_buffer("anchors", anchors)

    def forward(self, images):
        cls, box = self.model(images)
        return cls, box, self.anchors.clone()


def export(config_path, weights, extras_path, out, opset):
    with open(config_path) as f:
        config = json.load(f)["model"]
    model = focal_torch.load_model(config, weights)
    extras, metadata = focal_torch.read_safetensors(extras_path)
    wrapped = Exported(model, extras["anchors"]).eval()
    size = config["image_size"]
    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        with torch.no_grad():
            torch.onnx.export(
                wrapped,
                torch.zeros(1, 3, size, size),
                tmp,
                input_names=["images"],
                output_names=["cls_logits", "box_deltas", "anchors"],
                dynamic_axes={"images": {0: "batch"}, "cls_logits": {0: "batch"}, "box_deltas": {0: "batch"}},
                opset_version=opset,
            )
        proto = onnx.load(tmp)
        for key, value in sorted(metadata.items()):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(extras["anchors"])


def main(argv):
    parser = argparse.ArgumentParser(description="focal's RetinaNet to ONNX (see `focal export --help`)")
    parser.add_argument("config")
    parser.add_argument("weights")
    parser.add_argument("extras")
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args(argv)
    try:
        anchors = export(args.config, args.weights, args.extras, args.out, args.opset)
    except (ValueError, OSError, KeyError, onnx.checker.ValidationError) as e:
        print(f"export_onnx: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: opset {args.opset}, {anchors} anchors per image, dynamic batch")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

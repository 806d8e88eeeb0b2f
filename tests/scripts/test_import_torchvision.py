"""scripts/import_torchvision.py on good and bad checkpoints (CTest: import_torchvision).
Exits 77 (skipped) without Debian's python3-torch and python3-torchvision."""
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import torch
    import torchvision
except ImportError:
    print("skipped: python3-torch or python3-torchvision is not installed")
    sys.exit(77)

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "import_torchvision.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import import_torchvision  # noqa: E402


def read_safetensors(path):
    import json
    import struct

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return header


class ImportTorchvision(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="import_torchvision_")
        torch.manual_seed(1)
        cls.state = torchvision.models.resnet18().state_dict()

    def run_script(self, state, name, *extra):
        pth = os.path.join(self.dir, name + ".pth")
        out = os.path.join(self.dir, name + ".safetensors")
        if state is not None:
            torch.save(state, pth)
        if os.path.exists(out) and "--keep" not in extra:
            os.remove(out)
        args = [a for a in extra if a != "--keep"]
        p = subprocess.run([sys.executable, SCRIPT, pth, out, *args], capture_output=True, text=True)
        return p, out

    def test_converts_and_drops_the_classifier(self):
        p, out = self.run_script(dict(self.state), "good")
        self.assertEqual(p.returncode, 0, p.stderr)
        header = read_safetensors(out)
        self.assertEqual(header["__metadata__"]["arch"], "resnet18")
        names = [k for k in header if k != "__metadata__"]
        self.assertNotIn("fc.weight", names)
        self.assertFalse(any(k.endswith("num_batches_tracked") for k in names))
        self.assertEqual(header["layer2.0.downsample.0.weight"]["shape"], [128, 64, 1, 1])
        self.assertEqual(len(names), len(import_torchvision.expected_shapes("resnet18")))

    def test_resnet34_is_recognised_from_its_keys(self):
        p, out = self.run_script(torchvision.models.resnet34().state_dict(), "r34")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_safetensors(out)["__metadata__"]["arch"], "resnet34")

    def test_a_wrong_shape_is_named(self):
        state = dict(self.state)
        state["layer3.1.conv2.weight"] = torch.zeros(256, 256, 1, 1)
        p, out = self.run_script(state, "shape")
        self.assertEqual(p.returncode, 1)
        self.assertIn("'layer3.1.conv2.weight' has shape [256, 256, 1, 1]", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_missing_and_unexpected_keys_are_named(self):
        state = dict(self.state)
        del state["layer4.1.bn2.running_var"]
        state["neck.weight"] = torch.zeros(3)
        p, _ = self.run_script(state, "keys")
        self.assertEqual(p.returncode, 1)
        self.assertIn("layer4.1.bn2.running_var", p.stderr)
        self.assertIn("neck.weight", p.stderr)

    def test_a_resnet18_file_is_not_a_resnet34(self):
        p, _ = self.run_script(dict(self.state), "arch", "--arch", "resnet34")
        self.assertEqual(p.returncode, 1)
        self.assertIn("layer1.2.conv1.weight", p.stderr)

    def test_not_a_checkpoint(self):
        pth = os.path.join(self.dir, "text.pth")
        with open(pth, "w") as f:
            f.write("not a checkpoint\n")
        p, out = self.run_script(None, "text")
        self.assertEqual(p.returncode, 1)
        self.assertIn("text.pth: not a PyTorch checkpoint", p.stderr)

    def test_an_existing_output_is_kept_without_force(self):
        p, out = self.run_script(dict(self.state), "exists")
        self.assertEqual(p.returncode, 0, p.stderr)
        before = os.path.getmtime(out)
        p, out = self.run_script(dict(self.state), "exists", "--keep")
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists; --force replaces it", p.stderr)
        self.assertEqual(os.path.getmtime(out), before)
        p, out = self.run_script(dict(self.state), "exists", "--keep", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()

"""scripts/voc_losses.py end to end on a small synthetic VOC-format set (CTest: voc_losses).

Usage: test_voc_losses.py FOCAL. Two seeds of the three losses at one iteration per epoch:
the files and their columns, the summary and margins against the per-run rows, the AP over
training, a second call that reuses every run, and a bad --data."""
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

FOCAL = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/focal"
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "voc_losses.py")


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class VocLosses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="voc_losses_")
        cls.data = os.path.join(cls.dir, "shapes")
        subprocess.run([FOCAL, "make-shapes", "--out", cls.data, "--images", "30", "--size", "64"], check=True,
                       stdout=subprocess.DEVNULL)
        cls.out = os.path.join(cls.dir, "out")
        cls.first = cls.compare()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def compare(cls, data=None):
        return subprocess.run([sys.executable, SCRIPT, "--focal", FOCAL, "--data", data or cls.data, "--out", cls.out,
                               "--epochs", "2", "--seeds", "2", "--max-iters", "1", "--threads", "2", "--no-plot"],
                              capture_output=True, text=True)

    def test_runs_and_their_rows(self):
        self.assertEqual(self.first.returncode, 0, self.first.stdout + self.first.stderr)
        runs = read_csv(os.path.join(self.out, "voc_runs.csv"))
        self.assertEqual(sorted((r["loss"], r["seed"]) for r in runs),
                         sorted((l, s) for l in ("fl", "ce_a0.75", "ohem") for s in ("0", "1")))
        for r in runs:
            self.assertTrue(os.path.exists(os.path.join(self.out, "runs", f"{r['loss']}_s{r['seed']}", "config.json")))
            for m in ("map50_area", "map50_voc07", "coco_ap"):
                self.assertTrue(0.0 <= float(r[m]) <= 1.0, (r, m))

    def test_summary_and_margins_follow_the_rows(self):
        runs = read_csv(os.path.join(self.out, "voc_runs.csv"))
        value = {(r["loss"], r["seed"]): float(r["map50_area"]) for r in runs}
        for s in read_csv(os.path.join(self.out, "voc_summary.csv")):
            values = [value[(s["loss"], seed)] for seed in ("0", "1")]
            self.assertEqual(s["seeds"], "2")
            self.assertAlmostEqual(float(s["map50_area_mean"]), statistics.mean(values), places=3)
            self.assertAlmostEqual(float(s["map50_area_std"]), statistics.stdev(values), places=3)
        margins = [m for m in read_csv(os.path.join(self.out, "voc_margins.csv")) if m["metric"] == "map50_area"]
        self.assertEqual(sorted(m["baseline"] for m in margins), ["ce_a0.75", "ohem"])
        for m in margins:
            paired = [value[("fl", seed)] - value[(m["baseline"], seed)] for seed in ("0", "1")]
            self.assertAlmostEqual(float(m["fl_minus_mean"]), statistics.mean(paired), places=3)

    def test_ap_over_training_and_report(self):
        curve = read_csv(os.path.join(self.out, "voc_ap_over_epochs.csv"))
        self.assertEqual(len(curve), 6 * 2)  # every run, every epoch
        self.assertEqual(sorted({c["epoch"] for c in curve}), ["1", "2"])
        with open(os.path.join(self.out, "voc_losses.md")) as f:
            report = f.read()
        for label in ("FL (γ 2, α 0.25)", "CE (α 0.75)", "OHEM 1:3 (CE)", "seeds 0..1"):
            self.assertIn(label, report)

    def test_second_call_reuses_every_run(self):
        second = self.compare()
        self.assertEqual(second.returncode, 0, second.stderr)
        logs = [f for f in os.listdir(os.path.join(self.out, "runs")) if f.endswith(".log")]
        for log in logs:
            with open(os.path.join(self.out, "runs", log)) as f:
                self.assertEqual(f.read().count("$ "), 2, log)  # one train, one eval: nothing rerun

    def test_missing_data_is_named(self):
        bad = self.compare(os.path.join(self.dir, "no_such_set"))
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("no_such_set", bad.stderr)


if __name__ == "__main__":
    unittest.main()

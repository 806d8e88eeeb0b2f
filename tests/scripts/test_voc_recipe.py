"""scripts/voc_recipe.py end to end on a small synthetic VOC-format set (CTest: voc_recipe).

Usage: test_voc_recipe.py FOCAL. Three variants, two seeds, one or two epochs of one
iteration: the pilots, the files and their columns, the summary and the paired differences
against the per-run rows, a second call that reuses every run, and bad arguments."""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

FOCAL = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/focal"
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "voc_recipe.py")
VARIANTS = ("base", "ema", "mosaic")


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class VocRecipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="voc_recipe_")
        cls.data = os.path.join(cls.dir, "shapes")
        subprocess.run([FOCAL, "make-shapes", "--out", cls.data, "--images", "30", "--size", "64"], check=True,
                       stdout=subprocess.DEVNULL)
        cls.out = os.path.join(cls.dir, "out")
        cls.first = cls.compare()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def compare(cls, *extra, data=None):
        return subprocess.run([sys.executable, SCRIPT, "--focal", FOCAL, "--data", data or cls.data, "--out", cls.out,
                               "--variants", "ema,mosaic", "--minutes", "0.05", "--seeds", "2", "--pilot-iters", "2",
                               "--max-iters", "1", "--max-epochs", "2", "--threads", "2"] + list(extra),
                              capture_output=True, text=True)

    def test_pilots_set_the_epochs(self):
        self.assertEqual(self.first.returncode, 0, self.first.stdout + self.first.stderr)
        for v in VARIANTS:  # base is added: every difference needs it
            with open(os.path.join(self.out, "runs", f"{v}_pilot", "pilot.json")) as f:
                speed = json.load(f)
            self.assertGreater(speed["images_per_s"], 0)
            self.assertGreater(speed["images"], 0)
        for r in read_csv(os.path.join(self.out, "recipe_runs.csv")):
            self.assertIn(int(r["epochs"]), (1, 2))
            with open(os.path.join(self.out, "runs", f"{r['variant']}_s{r['seed']}", "config.json")) as f:
                config = json.load(f)["train"]
            self.assertEqual(config["epochs"], int(r["epochs"]))
            self.assertEqual(config["seed"], int(r["seed"]))
            self.assertEqual(config["preset"], "tiny")
            if r["variant"] == "ema":
                self.assertAlmostEqual(config["ema"], 0.999, places=6)
            if r["variant"] == "mosaic":
                self.assertAlmostEqual(config["mosaic"], 0.5, places=6)
            if r["variant"] == "base":
                self.assertEqual((config["ema"], config["mosaic"]), (0, 0))

    def test_summary_follows_the_rows(self):
        runs = read_csv(os.path.join(self.out, "recipe_runs.csv"))
        self.assertEqual(sorted((r["variant"], r["seed"]) for r in runs),
                         sorted((v, s) for v in VARIANTS for s in ("0", "1")))
        value = {(r["variant"], r["seed"]): float(r["map50_voc07"]) for r in runs}
        for r in runs:
            for m in ("map50_voc07", "map50_area", "coco_ap"):
                self.assertTrue(0.0 <= float(r[m]) <= 1.0, (r, m))
        summary = read_csv(os.path.join(self.out, "recipe_summary.csv"))
        self.assertEqual([s["variant"] for s in summary], list(VARIANTS))
        for s in summary:
            values = [value[(s["variant"], seed)] for seed in ("0", "1")]
            self.assertAlmostEqual(float(s["map50_voc07_mean"]), statistics.mean(values), places=3)
            self.assertAlmostEqual(float(s["map50_voc07_std"]), statistics.stdev(values), places=3)
            paired = [value[(s["variant"], seed)] - value[("base", seed)] for seed in ("0", "1")]
            self.assertAlmostEqual(float(s["voc07_minus_base_mean"]), statistics.mean(paired), places=3)
        with open(os.path.join(self.out, "recipe.md")) as f:
            report = f.read()
        for label in ("the 256 px recipe", "+ EMA of the weights", "+ mosaic (p .5)", "seeds 0..1"):
            self.assertIn(label, report)

    def test_second_call_reuses_every_run(self):
        second = self.compare()
        self.assertEqual(second.returncode, 0, second.stderr)
        for log in (f for f in os.listdir(os.path.join(self.out, "runs")) if f.endswith(".log")):
            with open(os.path.join(self.out, "runs", log)) as f:
                expected = 1 if log.endswith("_pilot.log") else 2  # a pilot; or one train, one eval
                self.assertEqual(f.read().count("$ "), expected, log)

    def test_combined_levers_merge_their_flags(self):
        sys.path.insert(0, os.path.dirname(SCRIPT))
        import voc_recipe
        flags = voc_recipe.flags_of("ema+anchors2.5+backbone_gn")
        value = {flags[i]: flags[i + 1] for i in range(len(flags) - 1) if flags[i].startswith("--")}
        self.assertEqual(value["--ema"], "0.999")
        self.assertEqual(value["--lr"], "0.002")  # the recipe's, unchanged
        self.assertEqual(json.loads(value["--model"]), {"head_norm_groups": 32, "anchors": {"size_per_stride": 2.5},
                                                        "backbone": {"norm_groups": 16}})
        self.assertEqual(voc_recipe.label_of("ema+mosaic"),
                         "+ EMA of the weights (decay .999, ramp 1000); + mosaic (p .5)")
        bad = self.compare("--variants", "ema+base")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("unknown ema+base", bad.stderr)

    def test_the_pilot_times_its_second_half(self):
        sys.path.insert(0, os.path.dirname(SCRIPT))
        import voc_recipe
        # 8 iterations of 8 images: the first 4 took 8 s in all, the last 4 took 2 s (16 images/s).
        steps = [{"iter": 4, "images_per_s": 32 / 8}, {"iter": 8, "images_per_s": 64 / 10}]
        self.assertAlmostEqual(voc_recipe.steady_speed(steps), 16.0)
        self.assertAlmostEqual(voc_recipe.steady_speed(steps[1:]), 6.4)  # one record: from the start

    def test_minutes_of_another_machine_scale_the_budget(self):
        # A machine three times as fast as this one measured ema's pilot: its 0.05 minutes are
        # 0.15 here, by the ratio of the two ema pilots (this one's is reused, so nothing trains).
        with open(os.path.join(self.out, "runs", "ema_pilot", "pilot.json")) as f:
            here = json.load(f)["images_per_s"]
        there = os.path.join(self.dir, "elsewhere", "ema_pilot")
        os.makedirs(there, exist_ok=True)
        with open(os.path.join(there, "pilot.json"), "w") as f:
            json.dump({"images_per_s": 3 * here, "images": 30}, f)
        scaled = self.compare("--minutes-of", os.path.join(there, "pilot.json"))
        self.assertEqual(scaled.returncode, 0, scaled.stderr)
        self.assertIn("0.05 min of the machine of", scaled.stdout)
        self.assertIn("are 0.15 min here", scaled.stdout)
        not_a_pilot = os.path.join(self.dir, "elsewhere", "pilot.json")
        shutil.copy(os.path.join(there, "pilot.json"), not_a_pilot)
        bad = self.compare("--minutes-of", not_a_pilot)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not a pilot.json in a <variant>_pilot folder", bad.stderr)

    def test_bad_arguments_are_named(self):
        bad = self.compare(data=os.path.join(self.dir, "no_such_set"))
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("no_such_set", bad.stderr)
        bad = self.compare("--variants", "ema,nope")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("unknown nope", bad.stderr)


if __name__ == "__main__":
    unittest.main()

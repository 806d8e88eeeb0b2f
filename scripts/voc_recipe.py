#!/usr/bin/env python3
"""Which training levers lift the VOC recipe, at equal wall time, over several seeds.

Every variant is the 256 px VOC recipe (the `tiny` preset with GroupNorm heads, AdamW lr .002,
weight decay .05, cosine, warm-up 300, 256 px, batch 8, the prior bias) with some settings
changed (VARIANTS below; `--variants` picks some, `a+b` combines levers). Each run gets the
same training time, not the same epochs, since a lever can cost speed (a mosaic decodes four
images, 320 px has 1.6x the pixels of 256): a pilot of --pilot-iters iterations measures the
variant's images/s on this machine over its second half, and the run trains for as many whole
epochs as fit in --minutes at that speed (at least one; the cosine schedule spans them). It is
scored once, at the end, on --val-split with `focal eval` (the last weights; with --ema, the
average).

Writes into OUT: runs/<variant>_s<seed>/ (focal run folders), runs/<variant>_pilot/,
recipe_runs.csv (every run: epochs, training minutes, mAP), recipe_summary.csv (per variant:
mean and sample std over seeds, and the difference from `base` paired by seed) and
recipe.md. Calling it again reuses finished runs and resumes an interrupted one.

    python3 scripts/voc_recipe.py --data ../shared/data/VOCdevkit --out results/voc_recipe \\
        --minutes 60 --seeds 2 --variants base,ema,mosaic

A comparison continued on another machine counts its minutes on the first one: --minutes-of
names a pilot.json measured there, and the same variant's pilot here scales the budget by the
two machines' speeds (so 60 minutes of a machine half as fast as this one train 30 minutes here).
"""
import argparse
import json
import math
import os
import sys
import time

from run_files import mean_std, read_json, read_json_lines, run_command, write_atomically, write_csv

WHO = "voc_recipe"

# The 256 px VOC recipe (recipes/voc.json before this comparison chose 160 px), as flag -> values;
# a variant's flags replace or add to these.
BATCH = 8
RECIPE = {
    "--batch": [str(BATCH)], "--preset": ["tiny"], "--model": ['{"head_norm_groups": 32}'], "--optimizer": ["adamw"], "--lr": ["0.002"],
    "--weight-decay": ["0.05"], "--schedule": ["cosine"], "--warmup": ["300"],
}

VARIANTS = {
    # name: (label, flags over RECIPE; a --model patch is merged into the recipe's, RFC 7386)
    "base": ("the 256 px recipe", {}),
    "ema": ("+ EMA of the weights (decay .999, ramp 1000)", {"--ema": ["0.999"], "--ema-ramp": ["1000"]}),
    "mosaic": ("+ mosaic (p .5)", {"--mosaic": ["0.5"]}),
    "mixup": ("+ mixup (p .2)", {"--mixup": ["0.2"]}),
    "multiscale": ("+ multi-scale (256 px +- 25 %)", {"--multi-scale": ["0.25"]}),
    "crop": ("scale-crop always, zoom 0.3-2", {"--crop-probability": ["1"], "--zoom": ["0.3", "2"]}),
    "size320": ("320 px input", {"--image-size": ["320"]}),
    "size192": ("192 px input (more epochs in the budget)", {"--image-size": ["192"]}),
    "size160": ("160 px input (more epochs in the budget)", {"--image-size": ["160"]}),
    "size224": ("224 px input (more epochs in the budget)", {"--image-size": ["224"]}),
    "lr4e-3": ("lr 0.004", {"--lr": ["0.004"]}),
    # `focal inspect --anchors` on the sample's train split at 256 px: size 2.5 x stride covers
    # 95.6 % of the boxes with an anchor of IoU >= .5, the default 4 x stride 88.8 %.
    "anchors2.5": ("anchors fitted to the boxes (2.5 x stride)", {"--model": ['{"anchors": {"size_per_stride": 2.5}}']}),
    "backbone_gn": ("GroupNorm (16 groups) in the backbone, not BatchNorm",
                    {"--model": ['{"backbone": {"norm_groups": 16}}']}),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--focal", default="build/focal", help="the focal executable")
    p.add_argument("--data", required=True, help="a VOC-format dataset")
    p.add_argument("--train-split", default="train")
    p.add_argument("--val-split", default="val")
    p.add_argument("--out", default="results/voc_recipe", help="output folder (calling again continues it)")
    p.add_argument("--minutes", type=float, default=60, help="training time of every run (the equal budget)")
    p.add_argument("--minutes-of", metavar="PILOT_JSON",
                   help="count --minutes on the machine that wrote this <variant>_pilot/pilot.json (a comparison "
                        "continued on another machine): the budget here is --minutes x its images/s over the same "
                        "variant's pilot here")
    p.add_argument("--seeds", type=int, default=2, help="training seeds per variant")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help="comma-separated, from: " + ", ".join(VARIANTS) + "; a+b combines two levers")
    p.add_argument("--pilot-iters", type=int, default=64,
                   help="iterations of each variant's speed pilot (its second half is timed)")
    p.add_argument("--threads", type=int, default=0, help="compute threads (0: all cores)")
    p.add_argument("--max-iters", type=int, default=0, help="iterations per epoch at most (smoke runs; 0: all)")
    p.add_argument("--max-epochs", type=int, default=0, help="epochs per run at most (smoke runs; 0: no cap)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = p.parse_args()
    a.variants = [v for v in a.variants.split(",") if v]
    unknown = [v for v in a.variants if any(part not in VARIANTS or (part == "base" and part != v)
                                            for part in parts_of(v))]
    if unknown or not a.variants:
        p.error(f"--variants: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(VARIANTS)}")
    if "base" not in a.variants:
        a.variants.insert(0, "base")  # the reference of every difference
    if a.minutes <= 0 or a.seeds < 1 or a.pilot_iters < 1:
        p.error("--minutes must be positive, --seeds and --pilot-iters at least 1")
    if not os.path.isdir(a.data):
        p.error(f"--data {a.data}: no such folder")
    if a.minutes_of:
        folder = os.path.basename(os.path.dirname(os.path.abspath(a.minutes_of)))
        a.minutes_of_variant = folder[:-len("_pilot")] if folder.endswith("_pilot") else ""
        if not os.path.isfile(a.minutes_of) or not all(part in VARIANTS for part in parts_of(a.minutes_of_variant)):
            p.error(f"--minutes-of {a.minutes_of}: not a pilot.json in a <variant>_pilot folder of a known variant")
    return a


def merge_patch(target, patch):
    """RFC 7386 merge patch of two --model objects (what `focal train --model` applies too)."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def parts_of(variant):
    """A variant's levers: "ema+anchors2.5" combines two (their flags together), "ema" is one."""
    return variant.split("+")


def label_of(variant):
    return "; ".join(VARIANTS[part][0] for part in parts_of(variant))


def flags_of(variant):
    merged = dict(RECIPE)
    for part in parts_of(variant):
        for flag, values in VARIANTS[part][1].items():
            if flag == "--model":  # a patch over the recipe's model and the other levers' patches
                values = [json.dumps(merge_patch(json.loads(merged[flag][0]), json.loads(values[0])))]
            merged[flag] = values
    return [word for flag, values in merged.items() for word in [flag] + values]


def train_command(a, variant, seed, out, max_iters):
    command = [a.focal, "train", "--data", a.data, "--split", a.train_split, "--val-split", a.val_split,
               "--seed", str(seed), "--threads", str(a.threads), "--device", a.device, "--out", out]
    return command + flags_of(variant) + (["--max-iters", str(max_iters)] if max_iters else [])


def pilot(a, variant, runs_dir):
    """The variant's training speed: {"images_per_s", "images"} from a short run, kept for reuse."""
    run = os.path.join(runs_dir, f"{variant}_pilot")
    measured = os.path.join(run, "pilot.json")
    if os.path.exists(measured):
        return read_json(measured, WHO)
    if os.path.exists(run):  # an interrupted pilot: start it again
        for name in os.listdir(run):
            os.remove(os.path.join(run, name))
        os.rmdir(run)
    iters = min(a.pilot_iters, a.max_iters) if a.max_iters else a.pilot_iters
    command = train_command(a, variant, 0, run, iters)
    command += ["--epochs", "1", "--eval-every", "0", "--log-every", str(max(1, iters // 8)), "--quiet"]
    run_command(command, os.path.join(runs_dir, f"{variant}_pilot.log"), WHO)
    steps = [r for r in read_json_lines(os.path.join(run, "log.jsonl"), WHO) if r.get("type") == "step"]
    if not steps:
        raise SystemExit(f"{WHO}: the pilot of {variant} logged no step; see {run}")
    speed = {"images_per_s": steady_speed(steps), "images": read_json(os.path.join(run, "config.json"),
                                                                      WHO)["images"]}
    write_atomically(measured, json.dumps(speed))
    return speed


def steady_speed(steps):
    """Images/s over the second half of a pilot's step records, whose images_per_s counts from
    the epoch's start: the first iterations (allocations, caches, and with --multi-scale a new
    shape every few steps) are slower than the rest of a run, by up to a third on 24 of them."""
    last = steps[-1]
    middle = next((r for r in steps if r["iter"] >= last["iter"] / 2 and r is not last), None)
    if middle is None:  # one record: the rate from the start is all there is
        return last["images_per_s"]
    seconds = lambda r: r["iter"] * BATCH / r["images_per_s"]  # since the epoch started
    return (last["iter"] - middle["iter"]) * BATCH / (seconds(last) - seconds(middle))


def minutes_here(a, runs_dir):
    """--minutes of the machine that measured --minutes-of, in this machine's minutes. The same
    variant's pilot there and here gives the ratio of the two machines' speeds, so a comparison
    begun on one machine can go on on a faster or slower one with every run's training still
    worth the same number of steps of that variant."""
    there = read_json(a.minutes_of, WHO)["images_per_s"]
    here = pilot(a, a.minutes_of_variant, runs_dir)["images_per_s"]
    return a.minutes * there / here


def epochs_for(a, speed):
    """Whole epochs of the training set that fit in --minutes at the pilot's speed."""
    images = speed["images"]
    if a.max_iters:
        images = min(images, a.max_iters * BATCH)
    epochs = max(1, math.floor(a.minutes * 60 * speed["images_per_s"] / images))
    return min(epochs, a.max_epochs) if a.max_epochs else epochs


def train_and_score(a, variant, seed, epochs, runs_dir):
    """One run folder, trained (or resumed) and scored; returns its row for recipe_runs.csv."""
    name = f"{variant}_s{seed}"
    run = os.path.join(runs_dir, name)
    scored = os.path.join(run, "voc_recipe_val.json")
    if os.path.exists(scored):
        return read_json(scored, WHO)
    log_path = os.path.join(runs_dir, name + ".log")
    command = train_command(a, variant, seed, run, a.max_iters) + ["--epochs", str(epochs), "--eval-every", "0"]
    if os.path.exists(os.path.join(run, "config.json")):
        command.append("--resume")
    started = time.time()
    run_command(command, log_path, WHO)
    wall = time.time() - started
    run_command([a.focal, "eval", "--run", run, "--split", a.val_split, "--weights", "last", "--threads",
                 str(a.threads), "--device", a.device], log_path, WHO)
    metrics = read_json(os.path.join(run, "metrics.json"), WHO)
    records = read_json_lines(os.path.join(run, "log.jsonl"), WHO)
    training = sum(r["seconds"] for r in records if r.get("type") == "epoch")
    row = {
        "variant": variant, "seed": seed, "epochs": epochs, "train_minutes": round(training / 60, 2),
        "wall_minutes": round(wall / 60, 2), "map50_voc07": metrics["map50_voc07"],
        "map50_area": metrics["map50_area"], "coco_ap": metrics["coco"]["ap"],
    }
    write_atomically(scored, json.dumps(row, indent=1))
    return row


METRICS = ["map50_voc07", "map50_area", "coco_ap"]


def summarise(a, rows, speeds):
    write_csv(os.path.join(a.out, "recipe_runs.csv"),
              ["variant", "seed", "epochs", "train_minutes", "wall_minutes"] + METRICS,
              [[r["variant"], r["seed"], r["epochs"], r["train_minutes"], r["wall_minutes"]] +
               [f"{r[m]:.4f}" for m in METRICS] for r in rows])
    base = {r["seed"]: r for r in rows if r["variant"] == "base"}
    summary = []
    for variant in a.variants:
        runs = [r for r in rows if r["variant"] == variant]
        cells = []
        for m in METRICS:
            cells += [f"{v:.4f}" for v in mean_std([r[m] for r in runs])]
        differences = [r["map50_voc07"] - base[r["seed"]]["map50_voc07"] for r in runs if r["seed"] in base]
        cells += [f"{v:+.4f}" for v in mean_std(differences)]
        summary.append([variant, label_of(variant), len(runs), runs[0]["epochs"],
                        f"{speeds[variant]['images_per_s']:.2f}",
                        f"{mean_std([r['train_minutes'] for r in runs])[0]:.1f}"] + cells)
    header = ["variant", "label", "seeds", "epochs", "pilot_images_per_s", "train_minutes"]
    header += [f"{m}_{s}" for m in METRICS for s in ("mean", "std")] + ["voc07_minus_base_mean", "voc07_minus_base_std"]
    write_csv(os.path.join(a.out, "recipe_summary.csv"), header, summary)
    return summary


def report(a, summary):
    lines = [
        "# Levers of the VOC recipe at equal training time (scripts/voc_recipe.py)", "",
        f"Every run: the 256 px VOC recipe with the changes its row names, trained for the whole epochs of the {a.train_split} "
        f"split that fit in {a.minutes:.4g} minutes at the speed its pilot measured, scored on the "
        f"{a.val_split} split with the last weights; "
        + (f"seeds 0..{a.seeds - 1}; mean ± sample std; the difference from the recipe is paired by seed."
           if a.seeds > 1 else "seed 0 alone, so no spread is shown: read differences against run-to-run noise."),
        "",
        "| variant | epochs | training min | val mAP@0.5 (VOC07) | vs recipe | area | COCO AP |",
        "|---|---|---|---|---|---|---|",
    ]
    def spread(std):  # one seed has none to show
        return f" ± {std.lstrip('+-')}" if a.seeds > 1 else ""

    for s in summary:
        variant, label, _, epochs, _, minutes = s[:6]
        voc07, voc07_std, area, area_std, coco, coco_std, diff, diff_std = s[6:]
        versus = "" if variant == "base" else diff + spread(diff_std)
        lines.append(f"| {label} | {epochs} | {minutes} | {voc07}{spread(voc07_std)} | {versus} "
                     f"| {area}{spread(area_std)} | {coco}{spread(coco_std)} |")
    write_atomically(os.path.join(a.out, "recipe.md"), "\n".join(lines) + "\n")


def main():
    a = parse_args()
    runs_dir = os.path.join(a.out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    speeds, rows = {}, []
    if a.minutes_of:
        minutes = a.minutes
        a.minutes = minutes_here(a, runs_dir)
        print(f"{WHO}: {minutes:g} min of the machine of {a.minutes_of} are {a.minutes:.2f} min here", flush=True)
    for variant in a.variants:
        speeds[variant] = pilot(a, variant, runs_dir)
        print(f"{WHO}: {variant}: {speeds[variant]['images_per_s']:.2f} images/s -> "
              f"{epochs_for(a, speeds[variant])} epochs in {a.minutes:g} min", flush=True)
    for seed in range(a.seeds):  # seed-major: a stopped comparison has whole seeds
        for variant in a.variants:
            row = train_and_score(a, variant, seed, epochs_for(a, speeds[variant]), runs_dir)
            print(f"{WHO}: {variant} seed {seed}: val mAP@0.5 {row['map50_voc07']:.4f} (VOC07) after "
                  f"{row['epochs']} epochs, {row['train_minutes']} min", flush=True)
            rows.append(row)
    report(a, summarise(a, rows, speeds))
    print(f"{WHO}: {os.path.join(a.out, 'recipe.md')} written")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""FL vs alpha-balanced CE vs OHEM 1:3 on Pascal VOC, at an equal budget, over several seeds.

Every run is the 256 px VOC recipe (the `tiny` preset with GroupNorm heads, AdamW, cosine
schedule, 256 px, batch 8, the prior bias) with only the classification loss changed:

    fl        focal loss, gamma 2, alpha .25          (Lin et al. 2017, eq. 5)
    ce_a0.75  alpha-balanced BCE, alpha .75           (the paper's best CE, Table 1a)
    ohem      BCE on the positives and the 3 hardest negatives per positive, per image
              (Shrivastava et al. 2016, in SSD's ratio form; the paper's OHEM 1:3, Table 1d)

Each run trains on --train-split, is scored on --val-split after every epoch (the AP over
training), and once more at the end with `focal eval` (the last weights). Writes into OUT:
runs/<loss>_s<seed>/ (ordinary focal run folders), voc_runs.csv, voc_summary.csv (mean and
sample std over seeds), voc_margins.csv (FL minus each baseline, paired by seed),
voc_ap_over_epochs.csv, voc_ap_over_epochs.png and voc_losses.md. Calling it again reuses
finished runs and resumes an interrupted one, so a long comparison survives a reboot.

    python3 scripts/voc_losses.py --data ../shared/data/VOCdevkit --out results/voc_losses \\
        --epochs 6 --seeds 2
"""
import argparse
import json
import os
import statistics
import sys
import time

from run_files import mean_std, read_json, read_json_lines, run_command, write_atomically, write_csv

WHO = "voc_losses"

LOSSES = [
    # name, label, focal train flags
    ("fl", "FL (γ 2, α 0.25)", ["--cls-loss", "focal", "--gamma", "2", "--alpha", "0.25"]),
    ("ce_a0.75", "CE (α 0.75)", ["--cls-loss", "bce", "--alpha", "0.75"]),
    ("ohem", "OHEM 1:3 (CE)", ["--cls-loss", "ohem", "--loss-param", "ratio=3"]),
]

# The 256 px VOC recipe, less the epochs (the budget is a flag here).
RECIPE = [
    "--preset", "tiny", "--model", '{"head_norm_groups": 32}', "--optimizer", "adamw", "--lr", "0.002",
    "--weight-decay", "0.05", "--schedule", "cosine", "--warmup", "300",
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--focal", default="build/focal", help="the focal executable")
    p.add_argument("--data", required=True, help="a VOC-format dataset")
    p.add_argument("--train-split", default="train")
    p.add_argument("--val-split", default="val")
    p.add_argument("--out", default="results/voc_losses", help="output folder (calling again continues it)")
    p.add_argument("--epochs", type=int, default=6, help="epochs of every run (the equal budget)")
    p.add_argument("--seeds", type=int, default=2, help="training seeds per loss")
    p.add_argument("--threads", type=int, default=0, help="compute threads (0: all cores)")
    p.add_argument("--max-iters", type=int, default=0, help="iterations per epoch at most (smoke runs; 0: all)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--no-plot", action="store_true", help="CSV and markdown only")
    a = p.parse_args()
    if a.epochs < 1 or a.seeds < 1:
        p.error("--epochs and --seeds must be at least 1")
    if not os.path.isdir(a.data):
        p.error(f"--data {a.data}: no such folder")
    return a


def train_and_score(a, loss, flags, seed, runs_dir):
    """One run folder, trained (or resumed) and scored; returns its row for voc_runs.csv."""
    name = f"{loss}_s{seed}"
    run = os.path.join(runs_dir, name)
    scored = os.path.join(run, "voc_losses_val.json")
    if os.path.exists(scored):
        with open(scored) as f:
            return json.load(f)
    log_path = os.path.join(runs_dir, name + ".log")
    train = [a.focal, "train", "--data", a.data, "--split", a.train_split, "--val-split", a.val_split,
             "--epochs", str(a.epochs), "--eval-every", "1", "--seed", str(seed), "--threads", str(a.threads),
             "--device", a.device, "--out", run] + RECIPE + flags
    if a.max_iters:
        train += ["--max-iters", str(a.max_iters)]
    if os.path.exists(os.path.join(run, "config.json")):
        train.append("--resume")
    started = time.time()
    run_command(train, log_path, WHO)
    run_command([a.focal, "eval", "--run", run, "--split", a.val_split, "--weights", "last", "--threads",
                 str(a.threads), "--device", a.device], log_path, WHO)
    metrics = read_json(os.path.join(run, "metrics.json"), WHO)
    epochs = read_json_lines(os.path.join(run, "log.jsonl"), WHO)
    curve = [(e["epoch"], e["map50_area"]) for e in epochs if e.get("type") == "epoch" and "map50_area" in e]
    row = {
        "loss": loss, "seed": seed, "epochs": a.epochs,
        "map50_area": metrics["map50_area"], "map50_voc07": metrics["map50_voc07"],
        "coco_ap": metrics["coco"]["ap"], "coco_ap50": metrics["coco"]["ap50"],
        "minutes": round((time.time() - started) / 60, 2), "curve": curve,
    }
    write_atomically(scored, json.dumps(row, indent=1))
    return row


def summarise(a, rows):
    by_loss = {loss: [r for r in rows if r["loss"] == loss] for loss, _, _ in LOSSES}
    labels = {loss: label for loss, label, _ in LOSSES}
    metrics = ["map50_area", "map50_voc07", "coco_ap"]
    write_csv(os.path.join(a.out, "voc_runs.csv"), ["loss", "seed", "epochs"] + metrics + ["minutes"],
              [[r["loss"], r["seed"], r["epochs"]] + [f"{r[m]:.4f}" for m in metrics] + [r["minutes"]] for r in rows])
    summary = []
    for loss, runs in by_loss.items():
        cells = []
        for m in metrics:
            cells += [f"{v:.4f}" for v in mean_std([r[m] for r in runs])]
        summary.append([loss, labels[loss], len(runs)] + cells)
    write_csv(os.path.join(a.out, "voc_summary.csv"),
              ["loss", "label", "seeds"] + [f"{m}_{s}" for m in metrics for s in ("mean", "std")], summary)
    margins = []
    fl = {r["seed"]: r for r in by_loss["fl"]}
    for loss, runs in by_loss.items():
        if loss == "fl":
            continue
        for m in metrics:
            differences = [fl[r["seed"]][m] - r[m] for r in runs if r["seed"] in fl]
            margins.append([loss, m] + [f"{v:+.4f}" for v in mean_std(differences)] + [len(differences)])
    write_csv(os.path.join(a.out, "voc_margins.csv"), ["baseline", "metric", "fl_minus_mean", "fl_minus_std", "seeds"],
              margins)
    write_csv(os.path.join(a.out, "voc_ap_over_epochs.csv"), ["loss", "seed", "epoch", "val_map50_area"],
              [[r["loss"], r["seed"], e, f"{v:.4f}"] for r in rows for e, v in r["curve"]])
    return by_loss, labels, summary, margins


def report(a, by_loss, labels, margins):
    lines = [
        "# FL vs alpha-CE vs OHEM 1:3 on Pascal VOC (scripts/voc_losses.py)", "",
        f"Every run: the 256 px VOC recipe (`tiny`, GroupNorm heads, AdamW lr 0.002, weight decay 0.05, cosine, "
        f"warm-up 300, batch 8, 256 px, the prior bias), {a.epochs} epochs of the {a.train_split} split, "
        f"scored on the {a.val_split} split with the last weights; seeds 0..{a.seeds - 1}; mean ± sample std; "
        f"margins paired by seed.", "",
        "| loss | seeds | mAP@0.5 (area) | mAP@0.5 (VOC07) | COCO AP | minutes per run |", "|---|---|---|---|---|---|",
    ]
    for loss, runs in by_loss.items():
        cells = ["%.3f ± %.3f" % mean_std([r[m] for r in runs]) for m in ("map50_area", "map50_voc07", "coco_ap")]
        minutes = statistics.mean(r["minutes"] for r in runs)
        lines.append(f"| {labels[loss]} | {len(runs)} | " + " | ".join(cells) + f" | {minutes:.1f} |")
    lines += ["", "| FL minus | metric | mean ± std (paired by seed) |", "|---|---|---|"]
    lines += [f"| {labels[m[0]]} | {m[1]} | {m[2]} ± {m[3].lstrip('+')} |" for m in margins]
    lines += ["", "![val mAP@0.5 over training](voc_ap_over_epochs.png)", ""]
    write_atomically(os.path.join(a.out, "voc_losses.md"), "\n".join(lines))


def plot(a, rows, labels):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    for i, loss in enumerate(labels):
        for r in (r for r in rows if r["loss"] == loss):
            epochs, values = zip(*r["curve"]) if r["curve"] else ((), ())
            axes.plot(epochs, values, color=f"C{i}", marker="o", markersize=3, alpha=0.8,
                      label=labels[loss] if r["seed"] == 0 else None)
    axes.set_xlabel("epoch")
    axes.set_ylabel(f"{a.val_split} mAP@0.5 (area)")
    axes.set_title("VOC 2007 sample, tiny RetinaNet from scratch (one line per seed)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    temporary = os.path.join(a.out, "voc_ap_over_epochs.tmp.png")
    figure.savefig(temporary, dpi=110)
    os.replace(temporary, os.path.join(a.out, "voc_ap_over_epochs.png"))


def main():
    a = parse_args()
    runs_dir = os.path.join(a.out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    rows = []
    for seed in range(a.seeds):  # seed-major: a stopped comparison has whole seeds
        for loss, label, flags in LOSSES:
            print(f"voc_losses: {label}, seed {seed}", flush=True)
            row = train_and_score(a, loss, flags, seed, runs_dir)
            print(f"voc_losses:   val mAP@0.5 {row['map50_area']:.4f} (area) in {row['minutes']} min", flush=True)
            rows.append(row)
    by_loss, labels, _, margins = summarise(a, rows)
    report(a, by_loss, labels, margins)
    if not a.no_plot:
        plot(a, rows, labels)
    print(f"voc_losses: {os.path.join(a.out, 'voc_losses.md')} written")


if __name__ == "__main__":
    sys.exit(main())

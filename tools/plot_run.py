#!/usr/bin/python3
"""Plots of a focal training run: loss components over steps, and mAP over epochs.

Usage: plot_run.py RUN_DIR [RUN_DIR ...] --out DIR
Writes DIR/loss.png and DIR/map.png (several runs are overlaid, labelled by their folder).
Needs Debian's python3-matplotlib.
"""
import argparse
import json
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit(f"plot_run.py: {sys.executable} has no matplotlib (on Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_log(run):
    steps, epochs = [], []
    with open(os.path.join(run, "log.jsonl")) as f:
        for line in f:
            entry = json.loads(line)
            (steps if entry["type"] == "step" else epochs if entry["type"] == "epoch" else []).append(entry)
    return steps, epochs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for run in args.runs:
        steps, _ = read_log(run)
        name = os.path.basename(os.path.normpath(run))
        x = [s["step"] for s in steps]
        for ax, key in zip(axes, ("loss", "cls", "box")):
            ax.plot(x, [s[key] for s in steps], label=name, linewidth=1)
    for ax, title in zip(axes, ("total loss", "classification loss", "box loss")):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "loss.png"), dpi=110)

    fig, ax = plt.subplots(figsize=(6, 4))
    for run in args.runs:
        _, epochs = read_log(run)
        evaluated = [e for e in epochs if "map50_voc07" in e]
        name = os.path.basename(os.path.normpath(run))
        ax.plot([e["epoch"] for e in evaluated], [e["map50_voc07"] for e in evaluated], "o-", label=f"{name} (VOC07)")
        ax.plot([e["epoch"] for e in evaluated], [e["map50_area"] for e in evaluated], "x--", label=f"{name} (area)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val mAP@0.5")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "map.png"), dpi=110)


if __name__ == "__main__":
    main()

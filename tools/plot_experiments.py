#!/usr/bin/python3
"""Draws the figures of `focal experiments` from the CSV and JSON files it wrote.

    /usr/bin/python3 tools/plot_experiments.py OUT

Writes, each when its inputs are there:
  OUT/snapshots.png       detections of the same test images at the snapshot epochs
  OUT/ap_over_epochs.png  val AP50 over epochs of the main runs (CE, OHEM 1:3, FL, CE without prior)
  OUT/loss_cdf.png        normalised loss CDFs over positive and negative anchors (Lin et al. 2017, Fig. 4)
  OUT/loss_overlay.png    one image's per-location classification loss under CE and FL
Needs matplotlib, numpy and PIL (Debian: python3-matplotlib); exits with status 3 without them.
"""
import csv
import json
import os
import sys


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_snapshots(out, plt, Image):
    path = os.path.join(out, "snapshots", "snapshots.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        snap = json.load(f)
    epochs, images, names = snap["epochs"], snap["images"], snap["classes"]
    stats = {s["epoch"]: s for s in snap["stats"]}
    rows, cols = len(images), len(epochs)
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 3.1 * rows + 0.9), squeeze=False)
    # one colour per kind, not per class: the figure is about right vs wrong
    styles = {"tp": ("#2ecc40", "-"), "fp_background": ("#ff1a1a", "--"), "fp_object": ("#ff9900", "--"),
              "ignored": ("#aaaaaa", ":")}
    for r, picture in enumerate(images):
        pixels = Image.open(picture["path"]).convert("RGB")
        for c, epoch in enumerate(epochs):
            ax = axes[r][c]
            ax.imshow(pixels, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            for t in picture["truth"]:
                x1, y1, x2, y2 = t["box"]
                ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec="white", lw=0.7, alpha=0.8))
            for d in picture["detections"].get(str(epoch), []):
                x1, y1, x2, y2 = d["box"]
                colour, ls = styles[d["kind"]]
                ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour, lw=2, ls=ls))
                ax.text(x1, y1 - 1, f"{names[d['label']]} {d['score']:.2f}", color="black", fontsize=6,
                        va="bottom", bbox=dict(fc=colour, ec="none", pad=0.5, alpha=0.85))
            if r == 0:
                s = stats[epoch]
                ax.set_title(f"epoch {epoch}\ntest AP50 {s['test_ap50_area']:.2f}, "
                             f"{s['fp_background_per_image']:.2f} bg FP/img", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"test {picture['id']}", fontsize=8)
    handles = [plt.Line2D([], [], color="#2ecc40", lw=2, label="true positive"),
               plt.Line2D([], [], color="#ff1a1a", lw=2, ls="--", label="false positive on background (hard negative)"),
               plt.Line2D([], [], color="#ff9900", lw=2, ls="--", label="false positive on an object"),
               plt.Line2D([], [], color="#999999", lw=0.8, label="ground truth (white)")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"FL run: detections scoring >= {snap['score_threshold']:.1f} on the same test images", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    png = os.path.join(out, "snapshots.png")
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def plot_ap(out, plt):
    path = os.path.join(out, "ap_over_epochs.csv")
    if not os.path.exists(path):
        return None
    runs = {}
    for row in read_csv(path):
        if row["ablation"] == "1":
            continue
        runs.setdefault(row["run"], {"label": row["label"], "diverged": row["diverged"] == "1", "rows": []})
        runs[row["run"]]["rows"].append(row)
    style = {"focal": ("#d95f02", "o-"), "ce": ("#1f4e9c", "s-"), "ohem": ("#1b9e77", "^-"),
             "ce_no_prior": ("#888888", "x--")}
    fig, (ax, loss_ax, first_ax) = plt.subplots(1, 3, figsize=(17, 4.6))
    for name, run in runs.items():
        colour, fmt = style.get(name, ("black", ".-"))
        rows = [r for r in run["rows"] if r["val_ap50_area"] not in ("", "-")]
        epochs = [int(r["epoch"]) for r in rows]
        label = run["label"] + (" (diverged)" if run["diverged"] else "")
        ax.plot(epochs, [float(r["val_ap50_area"]) for r in rows], fmt, color=colour, label=label, lw=2, ms=5)
        loss_ax.plot([int(r["epoch"]) for r in run["rows"]], [float(r["cls"]) for r in run["rows"]], fmt,
                     color=colour, label=label, lw=1.5, ms=4)
        if run["diverged"]:  # at the epoch it did not finish, on the axis
            stop = int(run["rows"][-1]["epoch"]) + 1 if run["rows"] else 1
            ax.plot([stop], [0], "X", color=colour, ms=10, clip_on=False)
            ax.annotate("diverged", (stop, 0.04), xycoords=("data", "axes fraction"), color=colour, fontsize=9,
                        ha="center")
    from matplotlib.ticker import MaxNLocator
    for a in (ax, loss_ax):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("val AP50 (VOC, area)")
    top = max([float(r["val_ap50_area"]) for run in runs.values() for r in run["rows"]
               if r["val_ap50_area"] not in ("", "-")] + [0.0])
    ax.set_ylim(0, min(1.0, max(0.05, 1.2 * top)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    ax.set_title("AP over epochs: same data, budget and seed")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("classification loss (train, epoch mean)")
    loss_ax.set_yscale("log")
    loss_ax.grid(alpha=0.3)
    loss_ax.set_title("each run's own training loss (different losses: compare shapes, not levels)", fontsize=9)
    first = os.path.join(out, "first_iterations.csv")
    if os.path.exists(first):
        steps = {}
        for row in read_csv(first):
            steps.setdefault(row["run"], (row["label"], []))[1].append((int(row["step"]), float(row["loss"])))
        for name, (label, points) in steps.items():
            colour, fmt = style.get(name, ("black", ".-"))
            first_ax.plot([p[0] for p in points], [p[1] for p in points], "-", color=colour, label=label, lw=1.5)
        first_ax.set_yscale("log")
        first_ax.set_xlabel("iteration")
        first_ax.set_ylabel("total training loss (per step)")
        first_ax.grid(alpha=0.3)
        first_ax.legend(fontsize=9)
        first_ax.set_title("the first iterations: without the prior, CE starts at ~anchors x classes x log 2 / positives",
                           fontsize=9)
    else:
        first_ax.set_visible(False)
    fig.tight_layout()
    png = os.path.join(out, "ap_over_epochs.png")
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def plot_cdf(out, plt):
    path = os.path.join(out, "analysis", "loss_cdf.csv")
    if not os.path.exists(path):
        return None
    curves = {}
    for row in read_csv(path):
        curves.setdefault((row["kind"], row["gamma"]), ([], []))
        curves[(row["kind"], row["gamma"])][0].append(float(row["fraction"]))
        curves[(row["kind"], row["gamma"])][1].append(float(row["cumulative"]))
    colours = {"0.0": "#1f4e9c", "0.5": "#6a3d9a", "1.0": "#1b9e77", "2.0": "#d95f02"}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, kind, zoom in ((axes[0], "positive", False), (axes[1], "negative", False), (axes[2], "negative", True)):
        for (k, gamma), (x, y) in sorted(curves.items()):
            if k != kind:
                continue
            ax.plot(x, y, color=colours.get(gamma, "black"), lw=2, label=f"γ = {float(gamma):g}")
        ax.set_xlabel(f"fraction of {kind} anchors (sorted by loss)")
        ax.set_ylabel("cumulative normalised loss")
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
        if zoom:
            ax.set_xlim(0.9, 1.0)
            ax.set_title("negatives, the hardest 10 % (zoom)")
        else:
            ax.set_xlim(0, 1)
            ax.set_title(f"{kind} anchors")
    fig.suptitle("Where the loss goes: CDF of the normalised per-anchor loss of a model trained with FL "
                 "(Lin et al. 2017, Fig. 4)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    png = os.path.join(out, "loss_cdf.png")
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def plot_overlay(out, plt, np, Image):
    path = os.path.join(out, "analysis", "loss_overlay.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        ov = json.load(f)
    from matplotlib.colors import LogNorm
    size = ov["size"]
    pixels = np.asarray(Image.open(os.path.join(out, "analysis", ov["image"])).convert("RGB"))
    maps = {k: np.asarray(v, dtype=np.float64).reshape(size, size) for k, v in ov["maps"].items()}
    top = max(m.max() for m in maps.values())
    norm = LogNorm(vmin=top * 1e-4, vmax=top)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    titles = {"ce": "CE (γ 0, α 0.25)", "fl": "FL (γ 2, α 0.25)"}
    axes[0].imshow(pixels, interpolation="nearest")
    axes[0].set_title(f"val {ov['id']}: objects (white boxes), "
                      f"{ov['distractors'] if ov['distractors'] >= 0 else '?'} distractors", fontsize=10)
    for ax in axes:
        ax.set_xticks([]), ax.set_yticks([])
    image = None
    for ax, key in zip(axes[1:], ("ce", "fl")):
        ax.imshow(pixels.mean(axis=2), cmap="gray", interpolation="nearest")
        image = ax.imshow(np.clip(maps[key], top * 1e-4, None), cmap="inferno", norm=norm, alpha=0.75,
                          interpolation="nearest")
        s = ov["stats"][key]
        ax.set_title(f"{titles[key]}: the 10 hardest negatives carry\n"
                     f"{100 * s['hardest_10_share_of_negatives']:.1f} % of the negatives' loss", fontsize=10)
    for ax in axes:
        for t in ov["truth"]:
            x1, y1, x2, y2 = t["box"]
            ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec="white", lw=1))
    cbar = fig.colorbar(image, ax=list(axes), fraction=0.02, pad=0.02)  # on all three: equal panels
    cbar.set_label("share of the negatives' loss per location")
    fig.suptitle("Where the loss of the negative anchors lies: the trained FL model's scores under CE and under FL "
                 "(summed per location, max over pyramid levels)", fontsize=11)
    png = os.path.join(out, "loss_overlay.png")
    fig.savefig(png, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return png


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        from PIL import Image
    except ImportError as e:
        print(f"plot_experiments.py: {e}; install python3-matplotlib (the CSV files are written)", file=sys.stderr)
        return 3
    drawn = (plot_snapshots(out, plt, Image), plot_ap(out, plt), plot_cdf(out, plt),
             plot_overlay(out, plt, np, Image))
    for png in drawn:
        if png:
            print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

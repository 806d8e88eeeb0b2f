#!/usr/bin/python3
"""Draws the figures of `focal experiments --sweep imbalance` from the CSV files it wrote.

    /usr/bin/python3 tools/plot_sweep.py OUT/imbalance

Writes, each when its inputs are there:
  sweep_margins.png        FL's test AP50 margin over CE (alpha .25, .75) and OHEM 1:3 against
                           negatives per positive, mean and each seed's paired difference
  sweep_ap_over_epochs.png val AP50 over training, one panel per level, each loss's seeds
  sweep_loss_cdf.png       the normalised loss CDF of FL's negatives at each level (Fig. 4)
Needs matplotlib and numpy (Debian: python3-matplotlib); exits with status 3 without them.
"""
import csv
import os
import sys

COLOURS = {"fl": "#d95f02", "ce_a0.25": "#1f4e9c", "ce_a0.75": "#6a9fd8", "ohem": "#1b9e77"}


def read_csv(path):
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, plt, out, name, top=1.0):
    fig.tight_layout(rect=(0, 0, 1, top))
    png = os.path.join(out, name)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def plot_margins(out, plt):
    runs, levels = read_csv(os.path.join(out, "sweep_runs.csv")), read_csv(os.path.join(out, "sweep_levels.csv"))
    if not runs or not levels:
        return None
    ratio = {row["level"]: float(row["negatives_per_positive"]) for row in levels}
    ap = {(r["level"], r["loss"], r["seed"]): float(r["test_ap50"]) for r in runs}
    labels = {r["loss"]: r["label"] for r in runs}
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for baseline in ("ce_a0.25", "ce_a0.75", "ohem"):
        xs, means, points = [], [], []
        for level in ratio:
            diffs = [ap[(level, "fl", s)] - ap[(level, baseline, s)] for (lv, loss, s) in ap
                     if lv == level and loss == "fl" and (level, baseline, s) in ap]
            if not diffs:
                continue
            xs.append(ratio[level])
            means.append(sum(diffs) / len(diffs))
            points += [(ratio[level], d) for d in diffs]
        if not xs:
            continue
        colour = COLOURS[baseline]
        ax.plot(xs, means, "-o", color=colour, lw=2, label=f"FL − {labels.get(baseline, baseline)}")
        ax.scatter([p[0] for p in points], [p[1] for p in points], color=colour, s=14, alpha=0.5)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("negatives per positive anchor (training images)")
    ax.set_ylabel("test AP50 margin of FL (paired by seed)")
    ax.set_title("Does FL's lead grow with the easy negatives? (lines: mean; dots: seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return save(fig, plt, out, "sweep_margins.png")


def plot_ap_over_epochs(out, plt):
    rows, levels = read_csv(os.path.join(out, "sweep_ap_over_epochs.csv")), read_csv(os.path.join(out, "sweep_levels.csv"))
    if not rows or not levels:
        return None
    names = [row["level"] for row in levels]
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.8), squeeze=False, sharey=True)
    for ax, level, info in zip(axes[0], names, levels):
        curves = {}
        for r in rows:
            if r["level"] == level and r["val_ap50_area"] != "-":
                curves.setdefault((r["loss"], r["label"], r["seed"]), []).append((int(r["epoch"]), float(r["val_ap50_area"])))
        seen = set()
        for (loss, label, seed), points in sorted(curves.items()):
            points.sort()
            ax.plot([p[0] for p in points], [p[1] for p in points], "-o", ms=3, lw=1.5, alpha=0.75,
                    color=COLOURS.get(loss, "black"), label=None if loss in seen else label)
            seen.add(loss)
        ax.set_title(f"{level}: {int(info['anchors_per_image']):,} anchors, "
                     f"{float(info['negatives_per_positive']):.0f} neg/pos", fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("val AP50")
    axes[0][0].legend(fontsize=8)
    return save(fig, plt, out, "sweep_ap_over_epochs.png")


def plot_loss_cdf(out, plt):
    levels = read_csv(os.path.join(out, "sweep_levels.csv"))
    if not levels:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = ["-", "--", ":", "-."]
    drawn = False
    for style, info in zip(styles, levels):
        rows = read_csv(os.path.join(out, "levels", info["level"], "analysis", "loss_cdf.csv"))
        if not rows:
            continue
        for ax, gamma in zip(axes, ("0.0", "2.0")):
            points = [(float(r["fraction"]), float(r["cumulative"])) for r in rows
                      if r["kind"] == "negative" and r["gamma"] == gamma]
            ax.plot([p[0] for p in points], [p[1] for p in points], style, lw=2,
                    label=f"{info['level']} ({float(info['negatives_per_positive']):.0f} neg/pos)")
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    for ax, gamma in zip(axes, ("0 (CE)", "2 (FL)")):
        ax.set_xlim(0.9, 1.0)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("fraction of negative anchors, sorted by loss (the hardest 10 %)")
        ax.set_ylabel("cumulative normalised loss")
        ax.set_title(f"negatives, γ = {gamma}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper left")
    fig.suptitle("Where the loss goes at each level: FL-trained models (Lin et al. 2017, Fig. 4)", fontsize=11)
    return save(fig, plt, out, "sweep_loss_cdf.png", top=0.94)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot_sweep.py: {e}; install python3-matplotlib (the CSV files are written)", file=sys.stderr)
        return 3
    for png in (plot_margins(argv[1], plt), plot_ap_over_epochs(argv[1], plt), plot_loss_cdf(argv[1], plt)):
        if png:
            print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

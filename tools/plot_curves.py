#!/usr/bin/python3
"""Plots the CSV that `focal curves` writes: loss vs p_t for CE and the focal loss.

    /usr/bin/python3 tools/plot_curves.py DIR/focal_curves.csv DIR/focal_ratios.csv DIR/focal_curves.png

Left, Lin et al. 2017's Figure 1: loss against the probability of the ground-truth class, for
gamma in {0, 0.5, 1, 2, 5} (gamma = 0 is CE). Right, the same on a log scale, annotated with the
FL/CE ratios that `focal curves` computed with focal's own losses (focal_ratios.csv).
Needs matplotlib (Debian: apt install python3-matplotlib); exits with status 3 without it.
"""
import csv
import sys


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return header, [[float(v) for v in row] for row in body]


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    curves_csv, ratios_csv, png = argv[1:]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"plot_curves.py: matplotlib is missing ({e}); install it with "
              "'apt install python3-matplotlib' (the CSV files are written)", file=sys.stderr)
        return 3

    header, rows = read_csv(curves_csv)
    p_t = [r[0] for r in rows]
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    gammas = [name[len("fl_gamma_"):] for name in header if name.startswith("fl_gamma_")]
    _, ratios = read_csv(ratios_csv)  # p_t, gamma, ce, fl, ce_over_fl

    colors = ["#1f4e9c", "#6a3d9a", "#1b9e77", "#d95f02", "#c51b7d", "#666666"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, log in ((left, False), (right, True)):
        for i, g in enumerate(gammas):
            label = f"γ = {g}" + (" (CE)" if float(g) == 0 else "")
            ax.plot(p_t, columns["fl_gamma_" + g], color=colors[i % len(colors)], lw=2, label=label)
        ax.set_xlabel("probability of ground truth class  $p_t$")
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
    left.set_ylim(0, 5)
    left.set_ylabel("loss")
    left.axvspan(0.6, 1.0, color="#999999", alpha=0.12)
    left.text(0.8, 4.3, "well-classified\nexamples", ha="center", va="center", fontsize=11)
    left.set_title(r"FL$(p_t) = -(1 - p_t)^\gamma \log(p_t)$   (Lin et al. 2017, Fig. 1)")
    left.legend(loc="upper right", bbox_to_anchor=(1.0, 0.82))

    right.set_yscale("log")
    right.set_ylim(1e-7, 10)
    right.set_ylabel("loss (log scale)")
    right.set_title("FL (γ = 2) vs CE: how much easy examples are down-weighted")
    for p, gamma, ce, fl, ratio in ratios:
        right.annotate("", xy=(p, fl), xytext=(p, ce),
                       arrowprops=dict(arrowstyle="<->", color="black", lw=1.2, shrinkA=0, shrinkB=0))
        right.plot([p, p], [fl, ce], "o", color="black", ms=3)
        # a quarter of the way up the arrow (log scale): the three labels do not overlap
        label_y = fl * (ce / fl) ** 0.25
        right.text(p - 0.015, label_y, f"$p_t$ = {p:g}\nFL/CE = 1/{ratio:.0f}\n({ratio:.0f}x smaller)",
                   ha="right", va="center", fontsize=9,
                   bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#bbbbbb", alpha=0.9))
    right.legend(loc="lower left", fontsize=9)

    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

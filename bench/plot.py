#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) The ensol authors
"""Plots of ensol's throughput, as PNG (matplotlib, Agg backend).

  bench/plot.py --bench scaling.json [--bench more.csv ...] --peers peers.json

--bench: results of `ensol bench --json FILE` or `--csv FILE` runs (several
may be given, e.g. one per precision, and are drawn together). Writes
--scaling-out (bench/throughput_vs_members.png): member-steps/s against
members on log axes, one line per backend/device/thread count (median, the
shaded band is min-max over the repeats), and the roofline ceiling (the
measured peak GFLOP/s divided by the flops per member-step) when the run
measured it.

--peers: the --json of bench/peers/run_peers.py. Writes --peers-out
(bench/peers.png): a bar chart on a log scale, ensol and each peer at each
member count, every peer bar labelled with ensol's speedup over it.

Run with /usr/bin/python3 (Debian's python3-matplotlib).
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogLocator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def read_bench(path):
    """Rows (dicts with floats where numbers) and the run's context."""
    if path.endswith(".json"):
        with open(path) as f:
            j = json.load(f)
        ctx = {"problem": j.get("problem", {}), "machine": j.get("machine", {}),
               "flops": j.get("roofline", {}).get("flops_per_member_step")}
        return [r for r in j["rows"] if r.get("status") == "ok"], ctx
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("status") != "ok":
                continue
            for k, v in list(r.items()):
                try:
                    r[k] = float(v) if v != "" else None
                except (TypeError, ValueError):
                    pass
            rows.append(r)
    first = rows[0] if rows else {}
    ctx = {"problem": {k: first.get(k) for k in ("model", "integrator", "precision",
                                                 "output_mode")},
           "machine": {"peak_gflops_double": first.get("peak_gflops_double")},
           "flops": first.get("flops_per_member_step")}
    ctx["problem"]["steps"] = first.get("steps")
    return rows, ctx


def plot_scaling(paths, out):
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    titles, ceilings = [], set()
    markers = "osD^vP*X"
    k = 0
    for path in paths:
        rows, ctx = read_bench(path)
        pr = ctx["problem"]
        title = f"{pr.get('model')} {pr.get('integrator')} {pr.get('precision')}, " \
                f"{int(pr.get('steps') or 0)} steps, {pr.get('output_mode')}"
        if title not in titles:
            titles.append(title)
        suffix = f" ({pr.get('precision')})" if len(paths) > 1 else ""
        labels = []
        for r in rows:
            if r["label"] not in labels:
                labels.append(r["label"])
        for label in labels:
            rs = sorted((r for r in rows if r["label"] == label), key=lambda r: r["members"])
            n = [r["members"] for r in rs]
            med = [r["median_member_steps_per_s"] for r in rs]
            lo = [r["min_member_steps_per_s"] for r in rs]
            hi = [r["max_member_steps_per_s"] for r in rs]
            line, = ax.plot(n, med, marker=markers[k % len(markers)], ms=4, lw=1.6,
                            label=label + suffix)
            ax.fill_between(n, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
            k += 1
        peak = (ctx["machine"] or {}).get("peak_gflops_double")
        if peak and ctx["flops"]:
            factor = 2 if pr.get("precision") == "float" else 1
            ceilings.add((peak * factor * 1e9 / ctx["flops"], pr.get("precision"),
                          peak * factor, ctx["flops"]))
    for rate, prec, gf, flops in sorted(ceilings):
        ax.axhline(rate, color="0.3", ls="--", lw=1)
        ax.annotate(f"measured peak {gf:.0f} GFLOP/s / {flops:g} flops per step ({prec})",
                    xy=(0.01, rate), xycoords=("axes fraction", "data"), va="bottom",
                    fontsize=8, color="0.3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=12))
    ax.set_xlabel("ensemble members")
    ax.set_ylabel("member-steps per second (median; band: min-max)")
    ax.set_title("ensol throughput against ensemble size\n" + "; ".join(titles), fontsize=10)
    ax.grid(True, which="major", lw=0.5, alpha=0.5)
    ax.grid(True, which="minor", lw=0.3, alpha=0.2)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"wrote {out} ({os.path.getsize(out) // 1024} KB)")


PEER_NAMES = {"ensol": "ensol (OpenMP)", "python_loop": "Python loop",
              "numpy": "NumPy", "process_pool": "ProcessPool+NumPy",
              "dask_array": "Dask array", "numba_parallel": "Numba parallel"}


def plot_peers(path, out):
    with open(path) as f:
        j = json.load(f)
    rows = j["rows"]
    sizes = sorted({r["members"] for r in rows})
    impls = []
    for r in rows:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    width = 0.8 / len(impls)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, impl in enumerate(impls):
        xs, ys, lo, hi, notes = [], [], [], [], []
        for s_i, size in enumerate(sizes):
            r = next((r for r in rows if r["members"] == size and r["impl"] == impl), None)
            if r is None:
                continue
            xs.append(s_i + (i - (len(impls) - 1) / 2) * width)
            med = r["rate"]["median"]
            ys.append(med)
            lo.append(med - r["rate"]["min"])
            hi.append(r["rate"]["max"] - med)
            note = "" if r.get("ratio") is None else f"{r['ratio']['median']:.0f}x"
            if impl == "python_loop" and r["members_timed"] != size:
                note += f"\n(at {r['members_timed']:g})"
            notes.append((note, r["rate"]["max"]))
        threads = next(r["threads"] for r in rows if r["impl"] == impl)
        label = f"{PEER_NAMES.get(impl, impl)}, {threads} thread{'s' if threads != 1 else ''}"
        ax.bar(xs, ys, width * 0.92, yerr=[lo, hi], capsize=2, label=label,
               color=colors[i % len(colors)], error_kw={"lw": 0.8})
        for x, (note, top) in zip(xs, notes):
            if note:
                ax.annotate(note, xy=(x, top), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([f"{s:,} members" for s in sizes])
    ax.set_ylabel("member-steps per second (median, min-max)")
    ax.set_title("Lorenz-63 RK4 float64, final state: ensol against Python peers\n"
                 "labels: ensol's speedup over the peer (same run, interleaved)", fontsize=10)
    ax.grid(True, axis="y", which="major", lw=0.5, alpha=0.5)
    top = max(r["rate"]["max"] for r in rows)
    bottom = min(r["rate"]["min"] for r in rows)
    ax.set_ylim(bottom / 4, top * 8)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"wrote {out} ({os.path.getsize(out) // 1024} KB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--bench", action="append", default=[],
                    help="ensol bench --json or --csv results (repeatable)")
    ap.add_argument("--peers", help="bench/peers/run_peers.py --json results")
    ap.add_argument("--scaling-out", default=os.path.join(HERE, "throughput_vs_members.png"))
    ap.add_argument("--peers-out", default=os.path.join(HERE, "peers.png"))
    a = ap.parse_args()
    if not a.bench and not a.peers:
        ap.error("nothing to plot: give --bench and/or --peers")
    if a.bench:
        plot_scaling(a.bench, a.scaling_out)
    if a.peers:
        plot_peers(a.peers, a.peers_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

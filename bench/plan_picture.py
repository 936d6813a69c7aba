#!/usr/bin/env python3
"""Draws a memory plan over time as an SVG (standard library only).

Input: the CSV of `kiln-compile --memory-timeline FILE` (one row per plan
step: phase, step, node, live_bytes, naive_bytes, arena_in_use_bytes,
arena_bytes). Output: one panel per phase (inference, training) showing,
step by step,
  - live intermediates (filled): the least any plan could hold at that step,
  - the highest arena byte the plan in use (`both`) touches,
  - the naive plan's allocation so far (every intermediate its own block),
  - the planned arena (dashed): what the runtime allocates.

  bench/plan_picture.py TIMELINE.csv OUT.svg [--title TEXT] [--phase training]
"""

import argparse
import csv
import sys
from xml.sax.saxutils import escape

W, PANEL_H, LEFT, RIGHT, TOP, GAP = 900, 300, 80, 20, 40, 70
COLORS = {"live": "#9ecae1", "arena_in_use": "#08519c", "naive": "#bdbdbd", "arena": "#d94801"}


def human(b):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def nice_ceiling(v):
    if v <= 0:
        return 1
    mag = 10 ** (len(str(int(v))) - 1)
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return m * mag
    return 10 * mag


def panel(rows, title, y0):
    out = []
    n = len(rows)
    top = nice_ceiling(max(max(r["naive"], r["arena"], r["live"]) for r in rows))
    plot_w = W - LEFT - RIGHT

    def x(i):
        return LEFT + plot_w * (i / max(n - 1, 1))

    def y(v):
        return y0 + PANEL_H * (1 - v / top)

    out.append(f'<text x="{LEFT}" y="{y0 - 10}" font-size="14" font-weight="bold">{escape(title)}</text>')
    for k in range(5):
        v = top * k / 4
        out.append(f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{W - RIGHT}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{human(v)}</text>')
    area = [f"{x(0):.1f},{y(0):.1f}"] + [f"{x(i):.1f},{y(r['live']):.1f}" for i, r in enumerate(rows)]
    area.append(f"{x(n - 1):.1f},{y(0):.1f}")
    out.append(f'<polygon points="{" ".join(area)}" fill="{COLORS["live"]}" stroke="none"/>')
    for key in ("naive", "arena_in_use"):
        pts = " ".join(f"{x(i):.1f},{y(r[key]):.1f}" for i, r in enumerate(rows))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[key]}" stroke-width="1.5"/>')
    arena = rows[0]["arena"]
    out.append(f'<line x1="{LEFT}" y1="{y(arena):.1f}" x2="{W - RIGHT}" y2="{y(arena):.1f}" '
               f'stroke="{COLORS["arena"]}" stroke-dasharray="6,4" stroke-width="1.5"/>')
    out.append(f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{W - RIGHT}" y2="{y(0):.1f}" stroke="#333"/>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{y(0) + 28:.1f}" font-size="11" '
               f'text-anchor="middle">plan step (0 … {n - 1})</text>')
    peak = max(r["live"] for r in rows)
    naive = rows[-1]["naive"]
    out.append(f'<text x="{W - RIGHT}" y="{y0 - 10}" font-size="11" text-anchor="end">'
               f'naive {human(naive)} · planned arena {human(arena)} ({naive / arena:.2f}× less) · '
               f'peak live {human(peak)}</text>')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("timeline")
    ap.add_argument("svg")
    ap.add_argument("--title", default="")
    ap.add_argument("--phase", action="append", choices=["inference", "training"],
                    help="phases to draw (default: both)")
    a = ap.parse_args()
    phases = {}
    try:
        with open(a.timeline, newline="") as f:
            for r in csv.DictReader(f):
                phases.setdefault(r["phase"], []).append({
                    "live": int(r["live_bytes"]), "naive": int(r["naive_bytes"]),
                    "arena_in_use": int(r["arena_in_use_bytes"]), "arena": int(r["arena_bytes"])})
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"plan_picture.py: {a.timeline}: not a kiln-compile --memory-timeline CSV ({e})")
    wanted = a.phase or [p for p in ("inference", "training") if p in phases]
    if not wanted or any(p not in phases or not phases[p] for p in wanted):
        sys.exit(f"plan_picture.py: {a.timeline}: no steps for {', '.join(wanted) or 'any phase'}")
    height = TOP + len(wanted) * (PANEL_H + GAP) + 30
    body = []
    if a.title:
        body.append(f'<text x="{W / 2}" y="20" font-size="16" text-anchor="middle">{escape(a.title)}</text>')
    for k, p in enumerate(wanted):
        body += panel(phases[p], p, TOP + 20 + k * (PANEL_H + GAP))
    ly = height - 14
    legend = [("live", "live intermediates"), ("arena_in_use", "highest arena byte in use (both)"),
              ("naive", "naive: allocated so far"), ("arena", "planned arena")]
    lx = LEFT
    for key, label in legend:
        body.append(f'<rect x="{lx}" y="{ly - 9}" width="14" height="10" fill="{COLORS[key]}"/>')
        body.append(f'<text x="{lx + 18}" y="{ly}" font-size="11">{escape(label)}</text>')
        lx += 30 + 6.5 * len(label)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
           f'viewBox="0 0 {W} {height}" font-family="sans-serif">\n'
           f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")
    with open(a.svg, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()

"""Geometry of the diagrams and charts, computed at build time.

Only numbers and strings come out of here; ``site/templates/_svg.html`` turns
them into inline ``<svg>`` markup, so the pages need no JavaScript and no
remote library to show a diagram.
"""

from __future__ import annotations

import math
from typing import Any

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22")
ROW = 24  # px per component row: 13 px text stays readable in a 1280 px screenshot
WIDTH = 1000  # fits the main column of a 1280 px window unscaled


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# ------------------------------------------------------------- providers
def provider_diagram(providers: list[dict[str, Any]], kinds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Providers (left) linked to the components they give, grouped by kind (right)."""
    rows, y = [], 40
    where: dict[tuple[str, str], float] = {}
    for kind in kinds:
        if not kind["entries"]:
            continue
        rows.append({"header": True, "text": f"{kind['kind']} ({kind['count']})", "y": y,
                     "url": kind["page"]})
        y += ROW
        for e in kind["entries"]:
            rows.append({"header": False, "text": e["name"], "y": y,
                         "url": f"{kind['page']}#{e['anchor']}"})
            where[(kind["kind"], e["name"])] = y + ROW / 2
            y += ROW
        y += 8
    if not rows:
        return None
    return {"width": WIDTH, "height": y + 10, "rows": rows, "x_right": 620, "w_right": 370,
            "providers": _provider_boxes(providers, where, y)}


def _provider_boxes(providers: list[dict[str, Any]], where: dict[tuple[str, str], float],
                    height: float) -> list[dict[str, Any]]:
    ordered = sorted(providers, key=lambda p: _mean(where[(c["kind"], c["name"])] for c in p["components"]))
    slot = max(height - 40, 60) / max(len(ordered), 1)
    boxes = []
    for i, prov in enumerate(ordered):
        box_h = 44
        top = 40 + i * slot + (slot - box_h) / 2
        cy = top + box_h / 2
        edges = [_curve(320, cy, 620, where[(c["kind"], c["name"])]) for c in prov["components"]]
        boxes.append({"label": prov["label"], "type": prov["type"], "x": 10, "y": top, "w": 310,
                      "h": box_h, "color": color(i), "edges": edges,
                      "count": len(prov["components"])})
    return boxes


def _mean(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (x1 + x2) / 2
    return f"M{x1:.0f},{y1:.1f} C{mid:.0f},{y1:.1f} {mid:.0f},{y2:.1f} {x2:.0f},{y2:.1f}"


# ----------------------------------------------------------------- graphs
def graph_diagram(graph: dict[str, Any]) -> dict[str, Any]:
    """A layered top-to-bottom drawing of a directed graph (nodes by longest path from a root)."""
    nodes, edges = list(graph["nodes"]), list(graph["edges"])
    labels = graph.get("labels") or {n: n for n in nodes}
    back = back_edges(nodes, edges)
    layer = _layers(nodes, edges, back)
    by_layer: dict[int, list[str]] = {}
    for n in nodes:
        by_layer.setdefault(layer[n], []).append(n)
    box_w, box_h, gap_y = 170, 36, 70
    width = max(WIDTH // 2, max(len(v) for v in by_layer.values()) * (box_w + 30) + 160)
    pos = {}
    for depth, members in by_layer.items():
        step = width / len(members)
        for i, n in enumerate(members):
            pos[n] = (step * i + step / 2, 20 + depth * (box_h + gap_y))
    boxes = [{"x": x - box_w / 2, "y": y, "w": box_w, "h": box_h, "cx": x, "cy": y + box_h / 2 + 5,
              "label": labels.get(n, n)} for n, (x, y) in pos.items()]
    lines = [_edge(pos[a], pos[b], (box_w, box_h), text, (a, b) in back)
             for a, b, text in edges if a in pos and b in pos]
    return {"width": width, "height": 20 + (max(by_layer) + 1) * (box_h + gap_y), "boxes": boxes,
            "edges": lines}


def back_edges(nodes: list[str], edges: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle (found by depth-first search): drawn as loops, not layered."""
    out_of: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b, _text in edges:
        out_of.setdefault(a, []).append(b)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for start in nodes:
        if start in state:
            continue
        stack = [(start, iter(out_of.get(start, [])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out_of.get(child, []))))
    return back


def _layers(nodes: list[str], edges: list[tuple[str, str, str]], back: set[tuple[str, str]]) -> dict[str, int]:
    """Longest-path depth of each node over the graph without its back edges."""
    depth = {n: 0 for n in nodes}
    forward = [(a, b) for a, b, _t in edges if (a, b) not in back and a in depth and b in depth]
    for _ in range(len(nodes)):
        changed = False
        for a, b in forward:
            if depth[b] < depth[a] + 1:
                depth[b], changed = depth[a] + 1, True
        if not changed:
            break
    return depth


def _edge(a: tuple[float, float], b: tuple[float, float], box: tuple[float, float], text: str,
          loop: bool) -> dict[str, Any]:
    """A path between two boxes: straight down, or (a back edge) a loop round the right side."""
    (x1, y1), (x2, y2) = a, b
    box_w, box_h = box
    if loop:
        sx, sy, ex, ey = x1 + box_w / 2, y1 + box_h / 2, x2 + box_w / 2 + 4, y2 + box_h / 2
        bend = sx + 60 + abs(sy - ey) * 0.15
        path = f"M{sx:.1f},{sy:.1f} C{bend:.1f},{sy:.1f} {bend:.1f},{ey:.1f} {ex:.1f},{ey:.1f}"
        return {"d": path, "text": text, "tx": bend - 10, "ty": (sy + ey) / 2}
    down = y2 >= y1
    sx, sy = x1, (y1 + box_h if down else y1)
    ex, ey = x2, (y2 - 4 if down else y2 + box_h + 4)
    return {"d": f"M{sx:.1f},{sy:.1f} L{ex:.1f},{ey:.1f}", "text": text,
            "tx": (sx + ex) / 2 + 6, "ty": (sy + ey) / 2}


# ----------------------------------------------------------------- charts
def line_chart(title: str, series: list[dict[str, Any]], *, log_y: bool = False,
               y_label: str = "") -> dict[str, Any] | None:
    """Axes, ticks and one polyline per series (``points``: [(step, value)])."""
    pts = [(x, y) for s in series for x, y in s["points"] if _finite(y) and (y > 0 or not log_y)]
    if not pts:
        return None
    w, h, left, right, top, bottom = 560, 300, 64, 16, 28, 40

    def fy(v: float) -> float:
        return math.log10(v) if log_y else float(v)

    xs, ys = [float(p[0]) for p in pts], [fy(p[1]) for p in pts]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (w - left - right)

    def sy(v: float) -> float:
        return top + (1 - (fy(v) - y0) / (y1 - y0)) * (h - top - bottom)

    lines = [{"label": s["label"], "color": s["color"],
              "points": " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s["points"]
                                 if _finite(y) and (y > 0 or not log_y)),
              "dots": [(round(sx(x), 1), round(sy(y), 1)) for x, y in s["points"]
                       if _finite(y) and (y > 0 or not log_y)] if len(s["points"]) < 40 else []}
             for s in series]
    y_ticks = _log_ticks(y0, y1) if log_y else _ticks(y0, y1)
    return {"title": title, "width": w, "height": h, "left": left, "right": w - right, "top": top,
            "bottom": h - bottom, "lines": lines, "y_label": y_label + (" (log scale)" if log_y else ""),
            "x_ticks": [(round(sx(t), 1), _fmt(t)) for t in _ticks(x0, x1)],
            "y_ticks": [(round(sy(t), 1), _fmt(t)) for t in y_ticks]}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = [10.0 ** e * m for e in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if lo - 1e-9 <= math.log10(t) <= hi + 1e-9]
    return inside if len(inside) >= 2 else [10 ** lo, 10 ** hi]


def _fmt(v: float) -> str:
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"

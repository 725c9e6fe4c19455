"""The squarified treemap layout (Bruls, Huizing, van Wijk 2000), as QDirStat draws its map.

Pure arithmetic, no Qt: the layout runs on a worker.  :func:`squarify` tiles a rectangle with
one rectangle per value, each with an area proportional to its value and as close to a square
as the greedy row-by-row method gets; the rectangles cover the area exactly and never overlap.
"""

from __future__ import annotations

from typing import Sequence

Rect = tuple[float, float, float, float]  # x, y, width, height


def _worst(row_sum: float, row_min: float, row_max: float, side: float) -> float:
    """The worst aspect ratio of a row with these areas laid along ``side``."""
    s2, side2 = row_sum * row_sum, side * side
    return max(side2 * row_max / s2, s2 / (side2 * row_min))


def squarify(values: Sequence[float], x: float, y: float, w: float, h: float) -> list[Rect]:
    """One rectangle per value (same order), tiling ``(x, y, w, h)``.

    ``values`` must be positive and sorted largest first (the method's squareness depends on
    it, its exactness does not).  An empty list or an empty rectangle gives zero-sized rects.
    """
    n = len(values)
    if n == 0:
        return []
    total = float(sum(values))
    if total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0)] * n
    scale = w * h / total
    areas = [v * scale for v in values]
    out: list[Rect] = []
    i = 0
    while i < n:
        side = min(w, h)
        # grow the row while it makes the worst ratio no worse
        j = i + 1
        row_sum = areas[i]
        row_min = row_max = areas[i]
        worst = _worst(row_sum, row_min, row_max, side)
        while j < n:
            a = areas[j]
            cand = _worst(row_sum + a, min(row_min, a), max(row_max, a), side)
            if cand > worst:
                break
            row_sum += a
            row_min, row_max = min(row_min, a), max(row_max, a)
            worst = cand
            j += 1
        last = j == n
        if w >= h:  # a column on the left
            cw = w if last else row_sum / h
            yy = y
            for k in range(i, j):
                ch = h - (yy - y) if k == j - 1 else areas[k] / cw
                out.append((x, yy, cw, ch))
                yy += ch
            x += cw
            w -= cw
        else:  # a row along the top
            rh = h if last else row_sum / w
            xx = x
            for k in range(i, j):
                cw = w - (xx - x) if k == j - 1 else areas[k] / rh
                out.append((xx, y, cw, rh))
                xx += cw
            y += rh
            h -= rh
        i = j
    return out


__all__ = ["Rect", "squarify"]

"""Golden best-so-far hypervolumes for report_test (MultiObjective* tests), computed exactly with fractions.

Results in completion order (resistivity minimised, transmittance maximised): A (1, 5), B (3, 9), C (2, 4), D (0, 2).
In maximisation form (negate the minimised objective) the dominated area is the union of the boxes [reference, p],
measured here cell by cell on the grid of all coordinates — independent of tsunagu's sweep-line implementation.
Automatic reference: worst value of each objective minus 10 % of its range over all results.
Run: python3 report_hypervolume.py > report_hypervolume.txt
"""
from fractions import Fraction as F


def union_area(points, ref):
    xs = sorted({ref[0], *(p[0] for p in points)})
    ys = sorted({ref[1], *(p[1] for p in points)})
    area = F(0)
    for x0, x1 in zip(xs, xs[1:]):
        for y0, y1 in zip(ys, ys[1:]):
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            if cx >= ref[0] and cy >= ref[1] and any(p[0] >= cx and p[1] >= cy for p in points):
                area += (x1 - x0) * (y1 - y0)
    return area


results = [(1, 5), (3, 9), (2, 4), (0, 2)]
pts = [(F(-r), F(t)) for r, t in results]
col0, col1 = [p[0] for p in pts], [p[1] for p in pts]
auto = (min(col0) - (max(col0) - min(col0)) / 10, min(col1) - (max(col1) - min(col1)) / 10)
given = (F(-4), F(0))  # reference_point = [4, 0] in natural units (resistivity 4, transmittance 0)
for label, ref in (("automatic", auto), ("given [4, 0]", given)):
    trace = [union_area(pts[: i + 1], ref) for i in range(len(pts))]
    print(f"{label}: reference {tuple(float(v) for v in ref)} trace {[float(v) for v in trace]}")

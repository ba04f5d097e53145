"""Writes the malformed VAMAS files bad_*.vms used by tests/spectra/vamas_test.cpp.

Each is a hand-made valid file (tiny_regular.vms / tiny_irregular.vms) with one line changed or the tail cut, so
the test knows the exact line the reader must name. Run from this directory: python3 make_bad_vamas.py
"""
from pathlib import Path

here = Path(__file__).resolve().parent


def variant(src, out, line=None, new=None, cut_after=None):
    lines = (here / src).read_text().splitlines()
    if line is not None:
        lines[line - 1] = new
    if cut_after is not None:
        lines = lines[:cut_after]
    (here / out).write_text("\n".join(lines) + "\n")


variant("tiny_regular.vms", "bad_number.vms", 83, "2x50")         # ordinate value 3 of block 1 (counts of point 2)
variant("tiny_regular.vms", "bad_nan.vms", 83, "nan")             # non-finite count
variant("tiny_regular.vms", "bad_negative.vms", 83, "-250")       # negative count
variant("tiny_regular.vms", "bad_missing_block.vms", 20, "3")     # declares 3 blocks, holds 2
variant("tiny_regular.vms", "bad_point_count.vms", 76, "12")      # declares 12 values, block holds 10
variant("tiny_regular.vms", "bad_odd_count.vms", 76, "9")         # 9 values for 2 corresponding variables
variant("tiny_regular.vms", "bad_increment.vms", 57, "0")         # regular axis with zero step
variant("tiny_regular.vms", "bad_mode.vms", 9, "NORMAL")          # unknown experiment mode
variant("tiny_regular.vms", "bad_unit.vms", 55, "s")              # abscissa not in eV
variant("tiny_regular.vms", "bad_truncated.vms", cut_after=85)    # file stops inside block 1's data
variant("tiny_irregular.vms", "bad_nonmonotonic.vms", 84, "776.0")  # 775, 776.5, 776.0: not monotonic
variant("tiny_irregular.vms", "bad_duplicate.vms", 84, "776.5")     # 776.5 twice

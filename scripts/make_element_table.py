#!/usr/bin/env python3
"""Regenerate data/features/elements.csv and src/features/element_data.cpp (the element-property table of
tsunagu::features) from the `mendeleev` and `pymatgen-core` packages.

Not run by CI: the generated files are committed, so the library needs neither Python nor a data file at run time.
Run it in a throwaway environment, e.g.

    python3 -m venv /tmp/elvenv && /tmp/elvenv/bin/pip install mendeleev pymatgen-core
    /tmp/elvenv/bin/python scripts/make_element_table.py            # writes both files
    /tmp/elvenv/bin/python scripts/make_element_table.py --check    # exits 1 if the committed files differ

Every column records the package and version that produced it (written into the csv header comment, the C++
table's `source` strings and, by hand, data/features/README.md). Missing values are NaN ("NaN" in the csv).
"""
from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.resources
import json
import math
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = ROOT / "data" / "features" / "elements.csv"
CPP_PATH = ROOT / "src" / "features" / "element_data.cpp"
N_ELEMENTS = 118

NOBLE_CORES = [(2, "He"), (10, "Ne"), (18, "Ar"), (36, "Kr"), (54, "Xe"), (86, "Rn")]


def load_sources():
    warnings.filterwarnings("ignore")
    from mendeleev import element  # noqa: PLC0415  (optional dependency of the script only)
    from pymatgen.core.periodic_table import Element  # noqa: PLC0415

    mendeleev_v = importlib.metadata.version("mendeleev")
    pymatgen_v = importlib.metadata.version("pymatgen-core")
    with importlib.resources.files("pymatgen.core").joinpath("periodic_table.json.gz").open("rb") as f:
        pmg_json = json.load(gzip.open(f))
    men = {z: element(z) for z in range(1, N_ELEMENTS + 1)}
    pmg = {z: Element.from_Z(z) for z in range(1, N_ELEMENTS + 1)}
    return men, pmg, pmg_json, f"mendeleev {mendeleev_v}", f"pymatgen-core {pymatgen_v}"


def num(v):
    """float or NaN for None / NaN / non-numeric."""
    if v is None:
        return math.nan
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    # 12 significant digits: drops binary noise such as 28.000000000000004 (mendeleev stores some values in
    # other units and converts them), far below the precision of any tabulated property.
    return float(f"{x:.12g}") if math.isfinite(x) else math.nan


def valence_counts(men_el, z):
    """(s, p, d, f) electrons outside the preceding noble-gas core of the ground-state configuration."""
    conf = dict(men_el.ec.conf)  # {(n, 'l'): count}
    core_z = max((cz for cz, _ in NOBLE_CORES if cz < z), default=0)
    core = {}
    if core_z:
        from mendeleev import element  # noqa: PLC0415

        core = dict(element(core_z).ec.conf)
    counts = {"s": 0, "p": 0, "d": 0, "f": 0}
    for (n, l), c in conf.items():
        extra = c - core.get((n, l), 0)
        if extra < 0:
            raise ValueError(f"Z={z}: configuration {men_el.econf} has fewer electrons in {n}{l} than the core")
        if l not in counts:
            if extra:
                raise ValueError(f"Z={z}: unexpected subshell {n}{l}")
            continue
        counts[l] += extra
    return counts["s"], counts["p"], counts["d"], counts["f"]


def build_columns():
    men, pmg, pmg_json, MEN, PMG = load_sources()
    sym = {z: men[z].symbol for z in men}
    valence = {z: valence_counts(men[z], z) for z in men}

    def pmg_raw(z, key):
        return num(pmg_json[sym[z]].get(key))

    # (name, unit, source, value(z))
    cols = [
        ("atomic_number", "", "definition (Z)", lambda z: float(z)),
        ("atomic_mass", "g/mol", f"{MEN} atomic_weight (IUPAC/CIAAW standard atomic weights, Meija 2016; "
         "radioactive elements: mass number of the most stable isotope)", lambda z: num(men[z].atomic_weight)),
        ("row", "", f"{MEN} period", lambda z: num(men[z].period)),
        ("group", "", f"{PMG} Element.group (IUPAC 1-18; La-Lu and Ac-Lr in group 3)",
         lambda z: num(pmg[z].group)),
        ("mendeleev_number", "", f"{MEN} mendeleev_number (Villars et al. 2004 after Pettifor 1984, "
         "extended to Z = 118 by mendeleev)", lambda z: num(men[z].mendeleev_number)),
        ("electronegativity", "Pauling", f"{MEN} en_pauling (CRC Handbook, Haynes 2014)",
         lambda z: num(men[z].en_pauling)),
        ("covalent_radius", "pm", f"{MEN} covalent_radius_cordero (Cordero et al., Dalton Trans. 2008, 2832)",
         lambda z: num(men[z].covalent_radius_cordero)),
        ("atomic_radius", "pm", f"{MEN} atomic_radius (Slater, J. Chem. Phys. 41, 3199 (1964))",
         lambda z: num(men[z].atomic_radius)),
        ("melting_point", "K", f"{PMG} periodic_table.json 'Melting point'",
         lambda z: pmg_raw(z, "Melting point")),
        ("density", "g/cm^3", f"{MEN} density (CRC Handbook, Haynes 2014; near room temperature, gases as ideal "
         "gas at 25 C and 101.325 kPa; theoretical estimates for At, Fr, Es-Og)", lambda z: num(men[z].density)),
        ("first_ionization_energy", "eV", f"{MEN} ionenergies[1] (NIST Atomic Spectra Database)",
         lambda z: num(men[z].ionenergies.get(1))),
        ("electron_affinity", "eV", f"{MEN} electron_affinity (CRC Handbook, Haynes 2014; metastable anions "
         "of He, Be, N, Ar, Xe from Andersen 2004, negative)", lambda z: num(men[z].electron_affinity)),
        ("valence_s", "", f"{MEN} electronic_configuration: s electrons outside the noble-gas core",
         lambda z: float(valence[z][0])),
        ("valence_p", "", f"{MEN} electronic_configuration: p electrons outside the noble-gas core",
         lambda z: float(valence[z][1])),
        ("valence_d", "", f"{MEN} electronic_configuration: d electrons outside the noble-gas core",
         lambda z: float(valence[z][2])),
        ("valence_f", "", f"{MEN} electronic_configuration: f electrons outside the noble-gas core",
         lambda z: float(valence[z][3])),
        ("valence_electrons", "", f"{MEN} electronic_configuration: all electrons outside the noble-gas core",
         lambda z: float(sum(valence[z]))),
        ("molar_volume", "cm^3/mol", f"{PMG} periodic_table.json 'Molar volume'",
         lambda z: pmg_raw(z, "Molar volume")),
        ("polarizability", "bohr^3", f"{MEN} dipole_polarizability (Schwerdtfeger and Nagle, static dipole "
         "polarizabilities of the neutral elements, 2023 update)", lambda z: num(men[z].dipole_polarizability)),
    ]
    values = [[c[3](z) for c in cols] for z in range(1, N_ELEMENTS + 1)]
    return sym, cols, values, (MEN, PMG)


def fmt(x):
    return "NaN" if math.isnan(x) else repr(float(x))


def cpp_double(x):
    if math.isnan(x):
        return "kNaN"
    s = repr(float(x))
    return s if ("." in s or "e" in s) else s + ".0"


def cpp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(sym, cols, values, versions):
    header = f"# generated by scripts/make_element_table.py from {versions[0]} and {versions[1]}; see README.md\n"
    csv = header + ",".join(["z", "symbol"] + [c[0] for c in cols]) + "\n"
    for z in range(1, N_ELEMENTS + 1):
        csv += ",".join([str(z), sym[z]] + [fmt(v) for v in values[z - 1]]) + "\n"

    n = len(cols)
    out = []
    out.append("// Generated by scripts/make_element_table.py; do not edit by hand (re-run the script instead).")
    out.append(f"// Sources: {versions[0]}, {versions[1]}; per-column provenance in data/features/README.md.")
    out.append('#include "element_data.hpp"')
    out.append("")
    out.append("#include <array>")
    out.append("#include <limits>")
    out.append("")
    out.append("namespace tsunagu::features::detail {")
    out.append("namespace {")
    out.append("")
    out.append("constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();")
    out.append("")
    out.append(f"constexpr std::array<ElementColumn, {n}> kColumns = {{{{")
    for name, unit, source, _ in cols:
        out.append(f"    {{{cpp_string(name)}, {cpp_string(unit)},")
        out.append(f"     {cpp_string(source)}}},")
    out.append("}};")
    out.append("")
    out.append(f"// kValues[z - 1][column], columns in kColumns order.")
    out.append(f"constexpr std::array<std::array<double, {n}>, {N_ELEMENTS}> kValues = {{{{")
    for z in range(1, N_ELEMENTS + 1):
        out.append(f"    {{{{{', '.join(cpp_double(v) for v in values[z - 1])}}}}},  // {sym[z]}")
    out.append("}};")
    out.append("")
    out.append("}  // namespace")
    out.append("")
    out.append("std::size_t element_column_count() noexcept { return kColumns.size(); }")
    out.append("const ElementColumn& element_column(std::size_t p) noexcept { return kColumns[p]; }")
    out.append("double element_value(int z, std::size_t p) noexcept {")
    out.append("  return kValues[static_cast<std::size_t>(z - 1)][p];")
    out.append("}")
    out.append("")
    out.append("}  // namespace tsunagu::features::detail")
    cpp = "\n".join(out) + "\n"
    return csv, cpp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    sym, cols, values, versions = build_columns()
    csv, cpp = render(sym, cols, values, versions)
    if args.check:
        ok = CSV_PATH.read_text() == csv and CPP_PATH.read_text() == cpp
        print("up to date" if ok else "differs from the committed files")
        return 0 if ok else 1
    CSV_PATH.parent.mkdir(parents=True, exist_ok=True)
    CSV_PATH.write_text(csv)
    CPP_PATH.write_text(cpp)
    missing = {c[0]: sum(math.isnan(v[i]) for v in values) for i, c in enumerate(cols)}
    print(f"wrote {CSV_PATH.relative_to(ROOT)} and {CPP_PATH.relative_to(ROOT)} ({len(cols)} columns)")
    print("missing values per column:", {k: v for k, v in missing.items() if v})
    return 0


if __name__ == "__main__":
    sys.exit(main())

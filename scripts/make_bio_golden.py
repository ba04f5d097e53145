#!/usr/bin/python3
"""Regenerate the golden numbers of tests/bio/descriptors_test.cpp (tsunagu::bio molecular descriptors) with
RDKit's own Python API on the same molecules.

    /usr/bin/python3 scripts/make_bio_golden.py            # writes tests/bio/golden/{descriptors,smarts}.csv
    /usr/bin/python3 scripts/make_bio_golden.py --check    # exits 1 if the committed files differ

Needs only the Debian package python3-rdkit (the RDKit version is written into the header comment of the csv; the
C++ library must link the same RDKit release for the 1e-9 comparison to be meaningful).

Columns of descriptors.csv:
  * RDKit functions (the truth for the C++ calls of the same functions): hbd = CalcNumHBD, hba = CalcNumHBA,
    tpsa = CalcTPSA, logp / molar_refractivity = CalcCrippenDescriptors, rotatable_bonds = CalcNumRotatableBonds
    (default strictness), mol_weight = Descriptors.MolWt, heavy_atoms = CalcNumHeavyAtoms, rings = CalcNumRings,
    aromatic_rings = CalcNumAromaticRings, fraction_csp3 = CalcFractionCSP3, canonical = Chem.MolToSmiles,
    smarts_<name> = len(mol.GetSubstructMatches(patt, maxMatches=10**6)) for the patterns of smarts.csv,
    morgan_r<R>_<B> = on bits of AllChem.GetMorganFingerprintAsBitVect(mol, R, nBits=B), ';'-separated.
  * tsunagu's own definitions (docs/bio.md), implemented here independently of the C++ code: eg_units (the SMARTS
    [OX2][CH2X4][CH2X4][OX2] through RDKit), cationic / anionic / zwitterionic / net_charge (formal charges, monatomic
    counter-ions left out, bonded opposite charges cancelled), chain_length (brute-force enumeration of all simple
    paths, where the C++ code uses a tree DP).
  * smiles_random: another spelling of the molecule (Chem.MolToRandomSmilesVect, seed 7) for the invariance test.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from rdkit import Chem, rdBase
from rdkit.Chem import AllChem, Descriptors
from rdkit.Chem import rdMolDescriptors as rd

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "bio" / "golden"

# (name, SMILES): surfactants, SAM thiols, antifouling monomers (PEG, zwitterions), drugs, rings, salts, odd cases.
MOLECULES = [
    ("ethanol", "CCO"),
    ("tetraethylene_glycol", "OCCOCCOCCOCCO"),
    ("dodecanethiol", "CCCCCCCCCCCCS"),
    ("betaine", "C[N+](C)(C)CC(=O)[O-]"),
    ("sodium_dodecyl_sulfate", "CCCCCCCCCCCCOS(=O)(=O)[O-].[Na+]"),
    ("stearic_acid", "CCCCCCCCCCCCCCCCCC(=O)O"),
    ("benzene", "c1ccccc1"),
    ("cetyltrimethylammonium_bromide", "CCCCCCCCCCCCCCCC[N+](C)(C)C.[Br-]"),
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("mpc_phosphorylcholine_methacrylate", "CC(=C)C(=O)OCCOP(=O)([O-])OCC[N+](C)(C)C"),
    ("sulfobetaine_methacrylate", "CC(=C)C(=O)OCC[N+](C)(C)CCCS(=O)(=O)[O-]"),
    ("carboxybetaine_acrylamide", "C=CC(=O)NCCC[N+](C)(C)CC(=O)[O-]"),
    ("eg3_undecanethiol", "SCCCCCCCCCCCOCCOCCOCCO"),
    ("mpeg4_methacrylate", "COCCOCCOCCOCCOC(=O)C(C)=C"),
    ("nitrobenzene", "c1ccc(cc1)[N+](=O)[O-]"),
    ("glycine_zwitterion", "[NH3+]CC(=O)[O-]"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("perfluorooctanoic_acid", "OC(=O)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)F"),
    ("cholesterol", "CC(C)CCC[C@@H](C)[C@H]1CC[C@H]2[C@@H]3CC=C4C[C@@H](O)CC[C@]4(C)[C@H]3CC[C@]12C"),
    ("18_crown_6", "C1COCCOCCOCCOCCOCCO1"),
    ("octamethyltrisiloxane", "C[Si](C)(C)O[Si](C)(C)O[Si](C)(C)C"),
    ("dopamine", "NCCc1ccc(O)c(O)c1"),
    ("glucose", "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("dodecylpyridinium_chloride", "CCCCCCCCCCCC[n+]1ccccc1.[Cl-]"),
    ("peg_repeat_unit", "*OCC*"),
    ("sodium_nitrate", "[O-][N+](=O)[O-].[Na+]"),
    ("calcium_acetate", "CC(=O)[O-].CC(=O)[O-].[Ca+2]"),
]

# User SMARTS (name, pattern): plain, charged, ring, halogen, and recursive ones.
SMARTS = [
    ("amide", "C(=O)N"),
    ("hydroxyl", "[OX2H]"),
    ("ether", "[OD2]([#6])[#6]"),
    ("carboxyl", "C(=O)[O-,OX2H1]"),
    ("quat_n", "[NX4+]"),
    ("aromatic_atom", "a"),
    ("cf2", "[CX4](F)(F)"),
    ("sulfonate", "S(=O)(=O)[O-,OX2H1]"),
    ("recursive", "[$([OX2H][CX4]),$([NX3][CX3]=O)]"),
    ("siloxane", "[Si]O[Si]"),
]

MORGAN = [(2, 2048), (1, 64), (3, 1024)]

PHYSCHEM = ["hbd", "hba", "tpsa", "logp", "molar_refractivity", "rotatable_bonds", "mol_weight", "heavy_atoms",
            "rings", "aromatic_rings", "fraction_csp3", "eg_units", "cationic", "anionic", "zwitterionic",
            "net_charge", "chain_length"]

EG = Chem.MolFromSmarts("[OX2][CH2X4][CH2X4][OX2]")


def charges(mol):
    """(cationic, anionic, net) with the documented rule, written independently of the C++ code."""
    frags = Chem.GetMolFrags(mol)  # tuples of atom indices
    size = {}
    for f in frags:
        for a in f:
            size[a] = len(f)
    res = {}
    net = 0
    for a in mol.GetAtoms():
        q = a.GetFormalCharge()
        if q != 0 and size[a.GetIdx()] == 1:
            continue  # monatomic counter-ion
        res[a.GetIdx()] = q
        net += q
    pairs = sorted(
        (min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
        for b in mol.GetBonds()
        if res.get(b.GetBeginAtomIdx(), 0) * res.get(b.GetEndAtomIdx(), 0) < 0)
    for i, j in pairs:
        if res[i] * res[j] >= 0:
            continue
        u = min(abs(res[i]), abs(res[j]))
        res[i] -= u if res[i] > 0 else -u
        res[j] -= u if res[j] > 0 else -u
    cat = sum(1 for q in res.values() if q > 0)
    an = sum(1 for q in res.values() if q < 0)
    return cat, an, net


def chain_length(mol):
    """Longest simple path of acyclic sp3 carbons whose interior carbons have only C/H neighbours (brute force)."""
    kind = {}
    for a in mol.GetAtoms():
        if (a.GetAtomicNum() == 6 and not a.GetIsAromatic() and not a.IsInRing()
                and a.GetHybridization() == Chem.HybridizationType.SP3):
            pure = all(n.GetAtomicNum() in (1, 6) for n in a.GetNeighbors())
            kind[a.GetIdx()] = "pure" if pure else "end"
    if not kind:
        return 0
    adj = {i: [n.GetIdx() for n in mol.GetAtomWithIdx(i).GetNeighbors() if n.GetIdx() in kind] for i in kind}
    best = 1

    def walk(path):
        nonlocal best
        best = max(best, len(path))
        last = path[-1]
        if len(path) > 1 and kind[last] != "pure":
            return  # an end-only carbon cannot be extended through
        for n in adj[last]:
            if n not in path:
                walk(path + [n])

    for start in kind:
        walk([start])
    return best


def fmt(x) -> str:
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    return repr(float(x))


def build() -> dict[str, str]:
    header = (f"# generated by scripts/make_bio_golden.py with RDKit {rdBase.rdkitVersion} "
              f"(Python {sys.version.split()[0]}); do not edit\n")
    cols = ["name", "smiles", "smiles_random", "canonical"] + PHYSCHEM + [f"smarts_{n}" for n, _ in SMARTS] + [
        f"morgan_r{r}_{b}" for r, b in MORGAN]
    out = io.StringIO()
    out.write(header)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    patterns = [(n, Chem.MolFromSmarts(s)) for n, s in SMARTS]
    for name, smi in MOLECULES:
        mol = Chem.MolFromSmiles(smi)
        assert mol is not None, smi
        rand = Chem.MolToRandomSmilesVect(mol, 1, randomSeed=7)[0]
        logp, mr = rd.CalcCrippenDescriptors(mol)
        cat, an, net = charges(mol)
        row = [name, smi, rand, Chem.MolToSmiles(mol),
               rd.CalcNumHBD(mol), rd.CalcNumHBA(mol), rd.CalcTPSA(mol), logp, mr,
               rd.CalcNumRotatableBonds(mol), Descriptors.MolWt(mol), rd.CalcNumHeavyAtoms(mol),
               rd.CalcNumRings(mol), rd.CalcNumAromaticRings(mol), rd.CalcFractionCSP3(mol),
               len(mol.GetSubstructMatches(EG, maxMatches=10**6)), cat, an, int(cat > 0 and an > 0), net,
               chain_length(mol)]
        row += [len(mol.GetSubstructMatches(p, maxMatches=10**6)) for _, p in patterns]
        for r, b in MORGAN:
            fp = AllChem.GetMorganFingerprintAsBitVect(mol, r, nBits=b)
            row.append(";".join(str(i) for i in fp.GetOnBits()))
        w.writerow([fmt(x) if not isinstance(x, str) else x for x in row])
    smarts = io.StringIO()
    smarts.write(header)
    sw = csv.writer(smarts, lineterminator="\n")
    sw.writerow(["name", "smarts"])
    for n, s in SMARTS:
        sw.writerow([n, s])
    return {"descriptors.csv": out.getvalue(), "smarts.csv": smarts.getvalue()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args()
    files = build()
    if args.check:
        bad = [n for n, text in files.items()
               if not (OUT_DIR / n).exists() or (OUT_DIR / n).read_text() != text]
        for n in bad:
            print(f"differs: {OUT_DIR / n}", file=sys.stderr)
        return 1 if bad else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for n, text in files.items():
        (OUT_DIR / n).write_text(text)
        print(f"wrote {OUT_DIR / n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`tsunagu structure info|convert` as a subprocess.

Truths: International Tables (space-group numbers, Wyckoff multiplicities and letters) for the hand-written files in
tests/structure/data, and the error contract: exit status 2 (usage / invalid value) or 1 (bad file), one
'error: ...' line naming the file and field, and no output file left behind.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "structure" / "data"


def run(cli, *args):
    return subprocess.run([cli, "structure", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_info_text_names_group_and_orbits(cli):
    r = run(cli, "info", DATA / "rutile_TiO2_P42mnm_explicit_ops.cif")
    assert r.returncode == 0, r.stderr
    assert "Ti2O4, 6 sites" in r.stdout
    assert "P4_2/mnm (136), point group 4/mmm" in r.stdout
    lines = [ln.split() for ln in r.stdout.splitlines() if ln.startswith("  ")]
    assert [(ln[0], ln[1]) for ln in lines] == [("Ti", "2a"), ("O", "4f")]


def test_info_json_for_every_format(cli, tmp_path):
    r = run(cli, "info", DATA / "Mn3GaN_Pm-3m_from_HM_name.cif", "--json", "--symprec", "1e-4")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["symmetry"]["number"] == 221
    assert {o["element"]: o["wyckoff"] for o in j["symmetry"]["orbits"]} == {"Ga": "1a", "N": "1b", "Mn": "3c"}
    r = run(cli, "info", DATA / "Mn3GaN_ordered_Mn.vasp", "--json")
    assert json.loads(r.stdout)["symmetry"]["number"] == 221
    xyz = tmp_path / "water.xyz"
    xyz.write_text("3\nwater\nO 0 0 0\nH 0.9572 0 0\nH -0.24 0.927 0\n")
    r = run(cli, "info", xyz)
    assert r.returncode == 0 and "molecule" in r.stdout


def test_convert_writes_poscar_that_reads_back(cli, tmp_path):
    out = tmp_path / "NaCl.vasp"
    r = run(cli, "convert", DATA / "NaCl_Fm-3m_from_IT_number.cif", "-o", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text().splitlines()
    assert text[5].split() == ["Na", "Cl"] and text[6].split() == ["4", "4"]
    r = run(cli, "info", out, "--json")
    assert json.loads(r.stdout)["symmetry"]["number"] == 225


def test_errors_exit_codes_and_one_line(cli, tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n"
                   "_cell_angle_beta 90\n_cell_angle_gamma 90\n"
                   "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 0\n")
    out = tmp_path / "out.vasp"
    r = run(cli, "convert", bad, "-o", out)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert "bad.cif:1: data_x: no symmetry operations" in r.stderr
    assert not out.exists()
    r = run(cli, "info", DATA / "Mn3GaN_ordered_Mn.vasp", "--format", "pdb")
    assert r.returncode == 2 and "unknown 'pdb'" in r.stderr
    r = run(cli, "info", DATA / "Mn3GaN_ordered_Mn.vasp", "--symprec", "0")
    assert r.returncode == 2 and "symprec" in r.stderr
    r = run(cli, "info", tmp_path / "missing.cif")
    assert r.returncode == 2

"""tsunagu.structure from Python.

Truths: International Tables multiplicities of the hand-written test files (tests/structure/data, their headers say
where the numbers come from), ASE's own CIF/POSCAR readers and the spglib Python package run on the same files
(skipped with a message when not installed), and the published magnetic space groups of Mn3AN antiperovskites
(Suzuki et al., PRB 95, 094406 (2017)).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsunagu
import tsunagu.structure as ts

DATA = Path(__file__).resolve().parents[1] / "structure" / "data"
CIFS = {
    "rutile_TiO2_P42mnm_explicit_ops.cif": (6, 136),
    "Mn3GaN_Pm-3m_from_HM_name.cif": (5, 221),
    "NaCl_Fm-3m_from_IT_number.cif": (8, 225),
    "ZnO_P63mc_two_blocks.cif": (4, 186),
}


def _ase():
    return pytest.importorskip("ase.io", reason="ASE not installed (pip install ase): no independent CIF reader")


def _spglib():
    return pytest.importorskip("spglib", reason="spglib Python package not installed (pip install spglib)")


def _sorted_frac(frac, numbers):
    """Rows (Z, x, y, z) wrapped into [0, 1) and sorted: an order-free fingerprint of a cell."""
    f = np.mod(np.round(np.asarray(frac, float), 6), 1.0)
    f[np.isclose(f, 1.0)] = 0.0
    rows = np.column_stack([np.asarray(numbers, float), f])
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize("name", sorted(CIFS))
def test_cif_expansion_has_ita_multiplicities(name):
    c = ts.read(DATA / name)
    assert len(c) == CIFS[name][0]
    assert c.frac.shape == (len(c), 3) and c.lattice.shape == (3, 3)
    assert np.all((c.frac >= 0) & (c.frac < 1))


def _for_ase(name, tmp_path):
    """A copy ASE 3.2x can read: its CIF parser asserts on a global_ block, and it will not build a structure from
    an operation loop without a space-group name (it then expands with its own tables: still independent of ours)."""
    text = (DATA / name).read_text()
    text = text.replace("global_\n_some_global_item 'ignored'\n", "")
    if name.startswith("rutile"):  # the only file that names its group by an operation loop alone
        text = text.replace("_cell_length_a", "_symmetry_space_group_name_H-M 'P 42/m n m'\n_cell_length_a", 1)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(CIFS))
def test_cif_matches_ase(name, tmp_path):
    aio = _ase()
    ours = ts.read(DATA / name)
    theirs = aio.read(_for_ase(name, tmp_path), index=0)  # first data block, as tsunagu reads by default
    np.testing.assert_allclose(theirs.cell.cellpar(), np.r_[np.linalg.norm(ours.lattice, axis=1),
                                                            ts.describe(ours)["lattice"]["alpha"],
                                                            ts.describe(ours)["lattice"]["beta"],
                                                            ts.describe(ours)["lattice"]["gamma"]], atol=1e-8)
    np.testing.assert_allclose(np.abs(theirs.cell[:]), np.abs(ours.lattice), atol=1e-8)
    a = _sorted_frac(ours.frac, ours.numbers)
    b = _sorted_frac(theirs.get_scaled_positions(), theirs.numbers)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CIFS))
def test_symmetry_matches_spglib_python(name):
    spglib = _spglib()
    c = ts.read(DATA / name)
    ours = ts.symmetry(c, symprec=1e-3)
    assert ours["number"] == CIFS[name][1]
    ref = spglib.get_symmetry_dataset((c.lattice, c.frac, c.numbers), symprec=1e-3)
    assert ours["number"] == ref.number
    assert ours["international"] == ref.international
    assert ours["wyckoffs"] == list(ref.wyckoffs)
    assert list(ours["equivalent_atoms"]) == list(ref.equivalent_atoms)
    assert len(ours["rotations"]) == len(ref.rotations)
    np.testing.assert_allclose(ours["standardized"].lattice, ref.std_lattice, atol=1e-8)
    assert len(ours["primitive"]) == len(spglib.standardize_cell((c.lattice, c.frac, c.numbers), to_primitive=True,
                                                                 symprec=1e-3)[2])


def _mn3gan(m1, m2, m3):
    c = ts.read(DATA / "Mn3GaN_Pm-3m_from_HM_name.cif")
    moments = np.zeros((len(c), 3))
    for pos, m in (((0, .5, .5), m1), ((.5, 0, .5), m2), ((.5, .5, 0), m3)):
        i = int(np.flatnonzero(np.all(np.isclose(c.frac, pos), axis=1))[0])
        moments[i] = m
    return c, moments


@pytest.mark.parametrize("moments,bns,uni,mtype,fm", [
    (((2, -1, -1), (-1, 2, -1), (-1, -1, 2)), "166.101", 1331, 3, True),
    (((0, 1, -1), (-1, 0, 1), (1, -1, 0)), "166.97", 1327, 1, False),
    (((0, 0, 1), (0, 0, 1), (0, 0, 1)), "123.345", None, None, True),
])
def test_mn3gan_magnetic_groups_are_the_published_ones(moments, bns, uni, mtype, fm):
    c, m = _mn3gan(*moments)
    d = ts.magnetic_symmetry(c, m)
    assert d["bns_number"] == bns
    if uni is not None:
        assert d["uni_number"] == uni
        assert d["type"] == mtype
    assert d["admits_ferromagnetism"] is fm
    assert d["rotations"].shape == (len(d["time_reversals"]), 3, 3)


def test_magnetic_matches_spglib_python_on_a_canted_configuration():
    spglib = _spglib()
    c, m = _mn3gan((1.0, 0.2, -0.3), (0.1, 1.0, 0.4), (-0.5, 0.3, 1.0))
    ours = ts.magnetic_symmetry(c, m)
    ref = spglib.get_magnetic_symmetry_dataset((c.lattice, c.frac, c.numbers, m), symprec=1e-3)
    assert ours["uni_number"] == ref.uni_number
    assert ours["type"] == ref.msg_type
    assert ours["bns_number"] == spglib.get_magnetic_spacegroup_type(ref.uni_number).bns_number


def test_crystal_helpers():
    c = ts.read(DATA / "Mn3GaN_Pm-3m_from_HM_name.cif")
    mn = c.select(element="mn")
    assert len(mn) == 3
    assert list(c.select(label="Mn", prefix=True)) == list(mn)
    np.testing.assert_allclose(c.cartesian(), c.frac @ c.lattice)
    np.testing.assert_allclose(c.lattice @ c.reciprocal_lattice().T, np.eye(3), atol=1e-12)
    assert c.volume == pytest.approx(3.898 ** 3)
    assert c.symbols.count("Mn") == 3
    assert ts.atomic_number("O2-") == 8 and ts.element_symbol(25) == "Mn"


def test_crystal_built_in_python_and_poscar_round_trip(tmp_path):
    c = ts.Crystal(lattice=np.diag([4.12, 4.12, 4.12]), frac=[[0, 0, 0], [.5, .5, .5]], numbers=["Cs", "Cl"])
    assert c.labels == ["Cs1", "Cl1"]
    assert ts.symmetry(c)["number"] == 221
    out = tmp_path / "CsCl.vasp"
    ts.write_poscar(out, c, comment="CsCl")
    back = ts.read(out)
    np.testing.assert_allclose(back.frac, c.frac, atol=1e-14)
    assert list(back.numbers) == [55, 17]


def test_poscar_written_by_tsunagu_reads_in_ase(tmp_path):
    aio = _ase()
    c = ts.read(DATA / "rutile_TiO2_P42mnm_explicit_ops.cif")
    out = tmp_path / "POSCAR"
    ts.write_poscar(out, c, cartesian=True)
    a = aio.read(out, format="vasp")
    np.testing.assert_allclose(a.cell[:], c.lattice, atol=1e-12)
    np.testing.assert_allclose(_sorted_frac(a.get_scaled_positions(), a.numbers), _sorted_frac(c.frac, c.numbers),
                               atol=1e-9)


def test_errors_are_value_errors_naming_file_and_field(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_b 4\n")
    with pytest.raises(tsunagu.ParseError, match=r"bad\.cif:1: _cell_length_a: missing in data_x"):
        ts.read(bad)
    bad.write_text("data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n"
                   "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_equiv_pos_as_xyz '__import__(\"os\")'\n"
                   "_atom_site_label Fe\n_atom_site_fract_x 0\n_atom_site_fract_y 0\n_atom_site_fract_z 0\n")
    with pytest.raises(ValueError, match="symmetry operation"):
        ts.read(bad)
    with pytest.raises(OSError):
        ts.read(tmp_path / "missing.cif")
    with pytest.raises(tsunagu.InvalidArgument, match="unknown 'pdb'"):
        ts.read(DATA / "NaCl_Fm-3m_from_IT_number.cif", format="pdb")
    c = ts.read(DATA / "Mn3GaN_Pm-3m_from_HM_name.cif")
    with pytest.raises(tsunagu.InvalidArgument, match=r"moments: expected shape \(5, 3\)"):
        ts.magnetic_symmetry(c, np.zeros((4, 3)))

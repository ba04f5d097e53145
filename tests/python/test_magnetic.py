"""tsunagu.magnetic from Python: the cluster-multipole basis of Mn3GaN and Mn3Sn against the published truths
(Suzuki et al., PRB 95, 094406 (2017): Mn3AN 9 = 2T1g + T2g, the T1g octupole along [111] is R-3m' with an
anomalous Hall effect, the T2g one R-3m without; Mn3Sn's octupole is E1g with Cm'cm'), checked independently with
spglib's magnetic symmetry (tsunagu.structure.magnetic_symmetry) and numpy (orthonormality, completeness), the
files it writes, and bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tsunagu
import tsunagu.magnetic as tm
import tsunagu.structure as ts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "magnetic"


@pytest.fixture(scope="module")
def mn3gan():
    return tm.generate(EXAMPLES / "Mn3GaN.cif", ["Mn"])


def site_moments(basis, crystal, moments):
    m = np.zeros((len(crystal), 3))
    for row, a in zip(moments, basis["magnetic_atoms"]):
        m[a["site"]] = row
    return m


def test_mn3gan_decomposition_is_2T1g_plus_T2g_and_the_basis_is_orthonormal_and_complete(mn3gan):
    b = mn3gan
    assert b["point_group"] == "m-3m" and b["decomposition"] == "2T1g + T2g"
    assert b["dimension"] == 9 and b["complete"] and len(b["basis"]) == 9
    V = np.array([e["moments"].ravel() for e in b["basis"]])
    np.testing.assert_allclose(V @ V.T, np.eye(9), atol=1e-9)
    # M1 gives the ferromagnet (T1g), M3 the T1g + T2g octupoles.
    assert [(e["multipole"], e["irrep"]) for e in b["basis"]] == [("M1", "T1g")] * 3 + [("M3", "T1g")] * 3 + \
        [("M3", "T2g")] * 3
    assert {e["type"] for e in b["basis"]} == {"M"} and {e["rank"] for e in b["basis"]} == {1, 3}


def test_mn3gan_111_octupoles_and_001_ferromagnet_have_the_published_magnetic_groups(mn3gan):
    d = {(e["irrep"], e["multipole"], e["direction"]): e for e in mn3gan["directions"]}
    t1g = d[("T1g", "M3", "[111]")]
    assert t1g["magnetic_space_group"]["uni"] == 1331 and t1g["magnetic_space_group"]["bns"] == "166.101"
    assert t1g["magnetic_space_group"]["type"] == 3 and t1g["ahe_allowed"]
    m = t1g["moments"] / np.abs(t1g["moments"]).max() * 2
    np.testing.assert_allclose(np.abs(m), np.abs([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]), atol=1e-9)
    np.testing.assert_allclose(m.sum(axis=1), 0, atol=1e-9)  # in-plane in each (111) kagome plane
    t2g = d[("T2g", "M3", "[111]")]
    assert (t2g["magnetic_space_group"]["uni"], t2g["magnetic_space_group"]["bns"]) == (1327, "166.97")
    assert t2g["magnetic_space_group"]["type"] == 1 and not t2g["ahe_allowed"]
    fm = d[("T1g", "M1", "[001]")]
    assert fm["magnetic_space_group"]["bns"] == "123.345" and fm["ahe_allowed"]


def test_every_vector_and_direction_label_agrees_with_spglib_on_the_moments(mn3gan):
    c = ts.read(EXAMPLES / "Mn3GaN.cif")
    for e in mn3gan["basis"] + mn3gan["directions"]:
        ms = ts.magnetic_symmetry(c, site_moments(mn3gan, c, e["moments"]))
        assert ms["uni_number"] == e["magnetic_space_group"]["uni"]
        assert ms["bns_number"] == e["magnetic_space_group"]["bns"]
        assert ms["admits_ferromagnetism"] == e["ahe_allowed"]


def test_mn3sn_octupole_is_E1g_with_the_symmetry_of_a_ferromagnet():
    b = tm.generate(EXAMPLES / "Mn3Sn.cif", "Mn")
    assert b["point_group"] == "6/mmm" and b["dimension"] == 18 and b["complete"]
    V = np.array([e["moments"].ravel() for e in b["basis"]])
    np.testing.assert_allclose(V @ V.T, np.eye(18), atol=1e-9)
    octupoles = [e for e in b["basis"] if e["multipole"] == "M3" and e["irrep"] == "E1g"]
    assert len(octupoles) == 2 and all(e["ahe_allowed"] for e in octupoles)
    assert {e["magnetic_space_group"]["bns"] for e in octupoles} == {"63.463", "63.464"}
    # The inverse triangular structure has no net moment, unlike the E1g dipole (M1) with the same symmetry.
    for e in octupoles:
        np.testing.assert_allclose(e["moments"].sum(axis=0), 0, atol=1e-9)


def test_crystal_object_rank_limit_power_order_and_the_json_file_agree(tmp_path):
    c = ts.read(EXAMPLES / "Mn3GaN.cif")
    out = tmp_path / "basis.json"
    b = tm.generate(c, "Mn", max_rank=1, output=out)
    assert not b["complete"] and len(b["basis"]) == 3 and b["max_rank_used"] == 1
    again = tm.read_basis(out)
    np.testing.assert_allclose(again["basis"][0]["moments"], b["basis"][0]["moments"])
    p = tm.generate(c, "Mn", order="power")
    assert p["complete"] and p["decomposition"] == "2T1g + T2g"
    assert ("T2", "T2g") in {(e["multipole"], e["irrep"]) for e in p["basis"]}  # T2 comes before M3 there


def test_dft_inputs_are_written_for_every_candidate(tmp_path):
    for name in ("Mn.UPF", "Ga.UPF", "N.UPF"):
        (tmp_path / name).write_text("")  # pw.in only names them
    b = tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn", vasp=tmp_path / "vasp", mcif=tmp_path / "mcif",
                    qe=tmp_path / "qe", pseudo_dir=tmp_path, moment=2.5, svg=tmp_path / "basis.svg",
                    qe_options={"pseudopotentials": {"Mn": "Mn.UPF", "Ga": "Ga.UPF", "N": "N.UPF"}})
    svg = (tmp_path / "basis.svg").read_text()
    assert svg.startswith("<svg") and svg.count('class="panel"') == len(b["basis"]) + len(b["directions"])
    names = [c["name"] for c in b["candidates"]]
    assert len(names) == len(set(names)) > 0
    for c in b["candidates"]:
        assert np.isclose(np.linalg.norm(c["moments_muB"], axis=1).max(), 2.5)
        assert (tmp_path / "vasp" / c["name"] / "POSCAR").exists()
        incar = (tmp_path / "vasp" / c["name"] / "INCAR").read_text()
        assert "LNONCOLLINEAR = .TRUE." in incar and "MAGMOM" in incar
        assert "noncolin" in (tmp_path / "qe" / c["name"] / "pw.in").read_text()
        mcif = (tmp_path / "mcif" / f"{c['name']}.mcif").read_text()
        assert c["magnetic_space_group"]["bns"] in mcif


def test_multipole_pattern_dipole_is_uniform_and_toroidal_dipole_circulates():
    P = np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0]])
    M = tm.multipole_pattern("M", 1, 0, P)
    np.testing.assert_allclose(M / M[0, 2], [[0, 0, 1]] * 3)
    T = tm.multipole_pattern("T", 1, 0, P)  # r × ẑ: tangential, the same sense at every point
    np.testing.assert_allclose(np.einsum("ij,ij->i", T, P), 0, atol=1e-12)
    np.testing.assert_allclose(np.cross(P, T)[:, 2] / np.cross(P, T)[0, 2], 1)


def test_bad_input_raises_one_clear_error(tmp_path):
    with pytest.raises(tsunagu.InvalidArgument, match="no site of 'Fe'"):
        tm.generate(EXAMPLES / "Mn3GaN.cif", "Fe")
    with pytest.raises(tsunagu.InvalidArgument, match="order"):
        tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn", order="alphabetical")
    with pytest.raises(tsunagu.InvalidArgument, match="max_rank"):
        tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn", max_rank=99)
    with pytest.raises(tsunagu.InvalidArgument, match="pseudo"):
        tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn", qe=tmp_path / "qe")
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option"):
        tm.generate(EXAMPLES / "Mn3GaN.cif", "Mn", qe=tmp_path / "qe", pseudo_dir=tmp_path, qe_options={"ecut": 30})
    assert not (tmp_path / "qe").exists()  # nothing written when the options are refused
    bad = tmp_path / "nocell.cif"
    bad.write_text("data_x\n_symmetry_Int_Tables_number 221\nloop_\n_atom_site_label\n_atom_site_fract_x\n"
                   "_atom_site_fract_y\n_atom_site_fract_z\nMn1 0 0.5 0.5\n")
    with pytest.raises(tsunagu.ParseError, match="cell"):
        tm.generate(bad, "Mn")
    with pytest.raises(FileNotFoundError):
        tm.results(tmp_path / "none.sqlite")

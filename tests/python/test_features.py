"""tsunagu.features from Python and `tsunagu features` from the CLI, against independent truths: ASE's neighbour
list, numpy statistics of the shipped element table, the analytic H2 Coulomb matrix."""
from __future__ import annotations

import csv
import subprocess

import numpy as np
import pytest

import tsunagu
import tsunagu.features as tf
from tsunagu.structure import Crystal, lattice_from_parameters

BOHR = 0.529177210903


def rocksalt(a=5.64):
    lat = np.eye(3) * a
    frac = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
            [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]
    return Crystal(lattice=lat, frac=frac, numbers=[11] * 4 + [17] * 4, source="NaCl")


def triclinic():
    lat = lattice_from_parameters(4.1, 5.3, 6.2, 71.0, 83.0, 104.0)
    rng = np.random.default_rng(4)
    frac = rng.random((7, 3))
    return Crystal(lattice=lat, frac=frac, numbers=[8, 8, 26, 26, 1, 6, 8], source="tri")


def test_neighbor_list_matches_ase_on_a_skewed_cell():
    ase_nl = pytest.importorskip("ase.neighborlist")
    import ase
    c = triclinic()
    cutoff = 7.5
    mine = tf.neighbor_list(c, cutoff)
    atoms = ase.Atoms(numbers=c.numbers, scaled_positions=c.frac, cell=c.lattice, pbc=True)
    i, j, d, S = ase_nl.neighbor_list("ijdS", atoms, cutoff)
    ours = sorted((int(a), int(b), tuple(int(x) for x in img), round(float(dist), 9))
                  for a in range(len(c))
                  for b, img, dist in zip(mine["index"][mine["start"][a]:mine["start"][a + 1]],
                                          mine["image"][mine["start"][a]:mine["start"][a + 1]],
                                          mine["distance"][mine["start"][a]:mine["start"][a + 1]]))
    theirs = sorted((int(a), int(b), tuple(int(x) for x in s), round(float(dist), 9)) for a, b, s, dist in zip(i, j, S, d))
    assert len(ours) == len(theirs)
    assert ours == theirs


def test_composition_statistics_equal_numpy_on_the_element_table():
    props = [p["name"] for p in tf.element_properties()]
    table = tf.element_table(imputed=True)
    d = tf.describe([rocksalt()], kind="composition")
    X = d.X[0]
    # NaCl: fractions 1/2, 1/2
    for k, name in enumerate(props):
        v = table[[10, 16], k]  # Na (Z=11), Cl (Z=17)
        mean = v.mean()
        sd = np.sqrt(((v - mean) ** 2).mean())
        got = X[5 * k:5 * k + 5]
        np.testing.assert_allclose(got, [mean, sd, v.min(), v.max(), v.max() - v.min()], rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    assert len(d.names) == X.size


def test_h2_coulomb_matrix_is_analytic():
    h2 = Crystal(lattice=np.eye(3) * 10, frac=[[0, 0, 0], [0.074, 0, 0]], numbers=[1, 1], periodic=False, source="H2")
    M = tf.coulomb_matrix(h2)
    dist_bohr = 0.74 / BOHR
    np.testing.assert_allclose(M, [[0.5, 1 / dist_bohr], [1 / dist_bohr, 0.5]], rtol=1e-12)
    ev = tf.describe([h2], kind="coulomb").X[0]
    np.testing.assert_allclose(sorted(ev, key=abs, reverse=True), [0.5 + 1 / dist_bohr, 0.5 - 1 / dist_bohr],
                               rtol=1e-12)


def test_prdf_does_not_change_with_a_supercell():
    c = rocksalt()
    sc = Crystal(lattice=np.diag([2, 1, 1]) @ c.lattice,
                 frac=np.vstack([c.frac * [0.5, 1, 1], c.frac * [0.5, 1, 1] + [0.5, 0, 0]]),
                 numbers=np.concatenate([c.numbers, c.numbers]), source="NaCl 2x1x1")
    a = tf.partial_rdf(c, ["Na", "Cl"], 6.0, 0.1, 0.1)
    b = tf.partial_rdf(sc, ["Na", "Cl"], 6.0, 0.1, 0.1)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_spec_round_trip_describes_new_structures_identically():
    c1, c2 = rocksalt(), rocksalt(5.5)
    d = tf.describe([c1, c2], kind="composition,prdf", rdf_cutoff=5.0)
    again = tf.describe([c2], spec=d.spec)
    np.testing.assert_array_equal(again.X[0], d.X[1])
    assert again.names == d.names


def test_bad_input_raises_library_errors():
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option"):
        tf.describe([rocksalt()], rdf_cutof=5.0)
    with pytest.raises(tsunagu.InvalidArgument, match="site"):
        tf.describe([rocksalt()], kind="site")
    with pytest.raises(tsunagu.ParseError, match="banana"):
        tf.describe([rocksalt()], kind="composition,banana")
    d = tf.describe([rocksalt()], kind="prdf")
    fe = Crystal(lattice=np.eye(3) * 3, frac=[[0, 0, 0]], numbers=[26], source="Fe.cif")
    with pytest.raises(tsunagu.InvalidArgument, match="Fe"):
        tf.describe([fe], spec=d.spec)


def test_cli_features_writes_the_same_numbers_as_python(cli, tmp_path):
    from tsunagu.structure import write_poscar
    p1, p2 = tmp_path / "a.vasp", tmp_path / "b.vasp"
    write_poscar(p1, rocksalt())
    write_poscar(p2, rocksalt(5.5))
    out = tmp_path / "f.csv"
    r = subprocess.run([cli, "-q", "features", str(p1), str(p2), "--kind", "composition,prdf", "--rdf-cutoff", "5",
                        "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(open(out)))
    d = tf.describe([str(p1), str(p2)], kind="composition,prdf", rdf_cutoff=5.0)
    assert rows[0] == ["structure"] + d.names
    np.testing.assert_allclose(np.array(rows[1:])[:, 1:].astype(float), d.X, rtol=1e-8, atol=1e-12)


def test_cli_features_refuses_site_without_absorber(cli, tmp_path):
    from tsunagu.structure import write_poscar
    p1 = tmp_path / "a.vasp"
    write_poscar(p1, rocksalt())
    r = subprocess.run([cli, "features", str(p1), "--kind", "site"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "--site" in r.stderr and r.stderr.count("\n") == 1
    r = subprocess.run([cli, "features", str(p1), "--kind", "site", "--absorber", "Fe"], capture_output=True, text=True)
    assert r.returncode == 2 and "no Fe atom" in r.stderr

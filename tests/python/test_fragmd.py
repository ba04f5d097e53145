"""tsunagu.fragmd (Python) and `tsunagu fragmd energy|run|analyze|descriptors` (CLI): libefp reference energies,
gradient against finite differences, a short MD run with restart and analysis, descriptors, and bad input."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import tsunagu
import tsunagu.fragmd as fm


def run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def efp(shared_dir):
    d = shared_dir / "data" / "efp"
    if not (d / "cases" / "total_4a.in").exists():
        pytest.skip("../shared/data/efp absent: EFP2 tests skipped")
    return d


def test_energy_matches_libefp_reference(efp):
    for case in ("elec_1a", "disp_2a", "xr_2", "total_5a"):
        s = fm.load(efp / "cases" / f"{case}.in")
        e = fm.energy(s)
        ref = s.info["ref_energy"]
        assert abs(e.total - ref) <= max(1e-6 * abs(ref), 5e-11), case
        assert e.total == pytest.approx(sum(e.terms.values()), abs=1e-14)
    assert set(e.terms) >= {"electrostatic", "polarization", "dispersion", "exchange_repulsion"}


def test_gradient_is_minus_force_and_matches_finite_differences(efp):
    s = fm.load(efp / "cases" / "total_4b.in")
    e = fm.energy(s, gradient=True)
    assert e.gradient.shape == (s.n_fragments, 6)
    # translate fragment 3 along y
    com, rot = np.array(s.com), s.rotations
    h = 1e-4
    vals = []
    for step in (h, -h):
        s2 = fm.load(efp / "cases" / "total_4b.in")
        s2.set_pose(3, com[3] + np.array([0.0, step, 0.0]), rot[3])
        vals.append(fm.energy(s2).total)
    assert e.gradient[3, 1] == pytest.approx((vals[0] - vals[1]) / (2 * h), rel=1e-5, abs=1e-9)
    # total force vanishes (translation invariance, no external charges)
    np.testing.assert_allclose(e.gradient[:, :3].sum(axis=0), 0.0, atol=1e-10)


def test_md_run_restart_and_analysis(efp, tmp_path):
    traj = tmp_path / "md.h5"
    log, ns_day, step = fm.run(efp / "cases" / "md_1.in", traj, steps=20, frame_every=2, print_every=5,
                               fraglib=efp / "fraglib")
    assert step == 20 and ns_day > 0
    # efpmd velocity blocks were read: the run did not start at rest
    assert log[0]["kinetic"] > 1e-3
    # NVE: conserved energy
    cons = [r["conserved"] for r in log]
    assert max(cons) - min(cons) < 1e-6
    t = fm.read_trajectory(traj)
    assert t["com_A"].shape == (11, 6) and t["time_fs"][-1] == pytest.approx(10.0)
    # resume continues the step count
    log2, _, step2 = fm.run(efp / "cases" / "md_1.in", traj, steps=10, frame_every=2,
                            resume=str(traj) + ".restart.json", fraglib=efp / "fraglib")
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option 'stepz'"):
        fm.run(efp / "cases" / "md_1.in", tmp_path / "x.h5", stepz=3, fraglib=efp / "fraglib")
    assert step2 == 30
    rep = fm.analyze(traj, msd=True, hvap=True, plots=tmp_path / "plots")
    assert "heat_of_vaporization" in rep and "msd" in rep
    assert (tmp_path / "plots" / "msd.svg").read_text().startswith("<svg")


def test_descriptors_table(efp):
    names, X, cols = fm.descriptors([efp / "fraglib" / "h2o.efp", efp / "fraglib" / "c6h6.efp"])
    assert names == ["h2o_l", "c6h6_l"] and X.shape == (2, len(cols))
    c = {n: X[:, i] for i, n in enumerate(cols)}
    assert 1.5 < c["dipole_D"][0] < 2.5 and c["dipole_D"][1] < 0.01
    assert c["c6_au"][1] > c["c6_au"][0] > 0


def test_cli_energy_json_and_errors(cli, efp, tmp_path):
    out = tmp_path / "e.json"
    r = run(cli, "fragmd", "energy", efp / "cases" / "total_4a.in", "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    j = json.loads(out.read_text())
    assert j["units"] == "hartree" and abs(j["total"] - j["ref_energy"]) < 5e-6
    for k in ("electrostatic", "polarization", "dispersion", "exchange_repulsion"):
        assert k in j
    bad = tmp_path / "bad.in"
    bad.write_text("run_type sp\nfrobnicate 3\nfragment h2o_l\n 0 0 0 0 0 0\n")
    r = run(cli, "fragmd", "energy", bad, "-o", tmp_path / "x.json")
    assert r.returncode == 1 and "unknown keyword 'frobnicate'" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "x.json").exists()
    nolib = tmp_path / "nolib.in"
    nolib.write_text("fragment h2o_l\n 0 0 0 0 0 0\n")
    r = run(cli, "fragmd", "energy", nolib)
    assert r.returncode == 1 and "fraglib" in r.stderr


def test_python_errors_are_value_errors(efp, tmp_path):
    bad = tmp_path / "bad.in"
    bad.write_text(f"fraglib_path {efp / 'fraglib'}\nfragment h2o_l\n 0 0 0 0 nan 0\n")
    with pytest.raises(tsunagu.ParseError, match="not a finite number"):
        fm.load(bad)
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option 'bogus'"):
        fm.analyze(tmp_path / "none.h5", bogus=1)
    with pytest.raises(tsunagu.InvalidArgument, match="temperature_K"):
        fm.run(efp / "cases" / "md_1.in", tmp_path / "y.h5", temperature_K=float("nan"), ensemble="nvt")
    with pytest.raises(tsunagu.InvalidArgument, match="nve, nvt or npt"):
        fm.run(efp / "cases" / "md_1.in", tmp_path / "y.h5", ensemble="nvx")
    assert not (tmp_path / "y.h5").exists()


def test_point_charge_gradient(efp):
    e = fm.energy(efp / "cases" / "qm_1a.in", gradient=True)
    assert e.terms["electrostatic_point_charges"] != 0 and e.gradient.shape == (3, 6)
    assert np.all(np.isfinite(e.gradient))


def test_ewald_for_charged_fragments_from_cli_and_python(efp, tmp_path, cli):
    # Rock salt from hand-written ion fragments: the Ewald sum gives the Madelung constant, the cutoff does not.
    (tmp_path / "na.efp").write_text(
        " $NA\nsodium cation\n COORDINATES (BOHR)\nA01NA  0.0 0.0 0.0  22.98977  11.0\n STOP\n"
        " MONOPOLES\nA01NA  -10.0  11.0\n STOP\n $END\n")
    (tmp_path / "cl.efp").write_text(
        " $CL\nchloride anion\n COORDINATES (BOHR)\nA01CL  0.0 0.0 0.0  34.96885  17.0\n STOP\n"
        " MONOPOLES\nA01CL  -18.0  17.0\n STOP\n $END\n")
    d = 5.0  # bohr
    lines = ["units bohr", "terms elec", "elec_damp off", "enable_pbc true", f"periodic_box {4*d} {4*d} {4*d}",
             "enable_cutoff true", f"swf_cutoff {2*d}", f"userlib_path {tmp_path}", "ewald true",
             "ewald_tolerance 1e-10"]
    for i in range(4):
        for j in range(4):
            for k in range(4):
                lines += ["fragment " + ("na" if (i + j + k) % 2 == 0 else "cl"), f"{i*d} {j*d} {k*d} 0 0 0"]
    inp = tmp_path / "nacl.in"
    inp.write_text("\n".join(lines) + "\n")
    s = fm.load(inp)
    assert s.ewald
    e = fm.energy(s, gradient=True)
    assert e.terms["electrostatic"] / 32 == pytest.approx(-1.747564594633182 / d, abs=1e-9)
    np.testing.assert_allclose(e.gradient, 0.0, atol=1e-9)
    out = tmp_path / "e.json"
    r = run(cli, "fragmd", "energy", inp, "-o", out)
    assert r.returncode == 0, r.stderr
    j = json.loads(out.read_text())
    assert j["electrostatic"] == pytest.approx(e.terms["electrostatic"], abs=1e-10)  # summation order
    assert j["ewald_alpha_per_bohr"] > 0 and j["ewald_kvectors"] > 0
    inp.write_text(inp.read_text().replace("enable_pbc true", "enable_pbc false"))
    r = run(cli, "fragmd", "energy", inp)
    assert r.returncode != 0 and "ewald" in r.stderr and "\n" not in r.stderr.strip()


def test_excess_mixing_from_three_runs_python_and_cli(efp, tmp_path, cli):
    # Three short NVT runs (8 waters, 8 methanols, 4 + 4) on a 2x2x2 lattice; mixing() must equal the enthalpy and
    # volume arithmetic done here on the trajectories' own numbers.
    def box(names, path):
        lines = [f"fraglib_path {efp / 'fraglib'}", "terms elec pol disp xr", "elec_damp screen", "disp_damp tt",
                 "enable_pbc true", "periodic_box 9.4 9.4 9.4", "enable_cutoff true", "swf_cutoff 4.6"]
        k = 0
        for i in range(2):
            for j in range(2):
                for m in range(2):
                    lines += [f"fragment {names[k]}", f"{i*4.7+1} {j*4.7+1} {m*4.7+1} {0.3*k} {0.5+0.1*k} {0.2*k}"]
                    k += 1
        path.write_text("\n".join(lines) + "\n")
        traj = tmp_path / (path.stem + ".h5")
        fm.run(path, traj, ensemble="nvt", steps=6, frame_every=1, print_every=0, temperature_K=298, seed=1)
        return traj
    w = box(["h2o_l"] * 8, tmp_path / "water.in")
    m = box(["ch3oh_l"] * 8, tmp_path / "methanol.in")
    x = box(["h2o_l", "ch3oh_l"] * 4, tmp_path / "mix.in")
    r = fm.mixing(x, w, m, first_frame=2, pressure_bar=1.0)
    assert r["component_a"] == "h2o_l" and r["component_b"] == "ch3oh_l" and r["x_a"] == 0.5

    def h_v(path):
        t = fm.read_trajectory(path)
        vol = np.prod(np.asarray(t["box_A"]), axis=1)[2:]
        e = (np.asarray(t["potential"]) + np.asarray(t["kinetic"]))[2:] * 2625.49962
        pv = 1.0 * vol * 1e-25 * 6.02214129e23 / 1e3
        return np.mean((e + pv) / 8), np.mean(vol * 1e-24 * 6.02214129e23 / 8)
    (hx, vx), (hw, vw), (hm, vm) = h_v(x), h_v(w), h_v(m)
    assert r["excess_enthalpy_kj_mol"] == pytest.approx(hx - 0.5 * hw - 0.5 * hm, abs=1e-8)
    assert r["excess_volume_cm3_mol"] == pytest.approx(vx - 0.5 * vw - 0.5 * vm, abs=1e-10)
    out = tmp_path / "mixing.json"
    p = run(cli, "fragmd", "mixing", x, "--pure-a", w, "--pure-b", m, "--first", 2, "-o", out)
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["excess_enthalpy_kj_mol"] == pytest.approx(r["excess_enthalpy_kj_mol"], abs=1e-12)
    # A mixture that lacks B is refused in one line, from Python and the CLI.
    with pytest.raises(tsunagu.InvalidArgument, match="must contain both"):
        fm.mixing(w, w, m)
    p = run(cli, "fragmd", "mixing", w, "--pure-a", w, "--pure-b", m)
    assert p.returncode != 0 and "must contain both" in p.stderr

"""`tsunagu spectra info|fit|select|batch` as a subprocess.

Truths: the Python API on the same data (the CLI and the bindings call the same library function, so the numbers
must agree exactly), the JSON contract of the issue (peaks with center/fwhm/area/shape/stderr, background, chi2,
energy_scale, converged, n_iter), and the error contract: non-zero exit, one 'error: ...' line naming the problem, no
output file left behind.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tsunagu.spectra as ts


def run(cli, *args, timeout=120, env=None):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def one_error_line(res):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def test_info_lists_blocks(cli, shared_dir):
    res = run(cli, "spectra", "info", shared_dir / "data/xps/FeO_analyzed.vms")
    assert res.returncode == 0, res.stderr
    assert "Fe 2p" in res.stdout and "1121 points" in res.stdout and "hv 1486.61" in res.stdout
    js = json.loads(run(cli, "spectra", "info", "--json", shared_dir / "data/xps/regular.vms").stdout)
    assert js["blocks"][0]["points"] == 1351


def test_fit_json_contract_and_agreement_with_python(cli, shared_dir, tmp_path):
    f = shared_dir / "data/xps/PET_C1s.csv"
    out, svg = tmp_path / "r.json", tmp_path / "fit.svg"
    res = run(cli, "spectra", "fit", f, "--peaks-at", "285,286.5,289", "--shape", "pvoigt", "--background",
              "shirley", "--region", "280.5:292", "-o", out, "--plot", svg)
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())
    for key in ("peaks", "background", "chi2", "energy_scale", "converged", "n_iter"):
        assert key in r
    p = r["peaks"][0]
    for key in ("center", "fwhm", "area", "shape", "eta", "stderr"):
        assert key in p
    assert r["energy_scale"] == "binding" and r["background"]["kind"] == "shirley"
    py = ts.fit(ts.read(f)[0], peaks_at=[285, 286.5, 289], shape="pvoigt", background="shirley",
                region=(280.5, 292))
    # same library function: equal up to the last bits (builds may differ in vectorisation)
    assert [q["center"] for q in r["peaks"]] == pytest.approx([q["center"] for q in py["peaks"]], rel=1e-9)
    ET.parse(svg)


def test_select_writes_scores_and_choice(cli, tmp_path):
    x = np.linspace(280, 292, 241)
    rng = np.random.default_rng(1)
    y = rng.poisson(40 + 2000 * np.exp(-0.5 * ((x - 284) / 0.4) ** 2) + 900 * np.exp(-0.5 * ((x - 287) / 0.45) ** 2))
    csv = tmp_path / "s.csv"
    np.savetxt(csv, np.column_stack([x, y]), delimiter=",", header="BE,counts", comments="")
    res = run(cli, "spectra", "select", csv, "--max-peaks", "4", "--method", "bic", "--background", "constant",
              "-o", tmp_path / "sel.json", "--plot", tmp_path / "sel.svg")
    assert res.returncode == 0, res.stderr
    sel = json.loads((tmp_path / "sel.json").read_text())
    assert sel["n_peaks"] == 2 and len(sel["bic"]) == 4 and sel["criterion"] == "bic"


def _cube(tmp_path, bad=True):
    h5py = pytest.importorskip("h5py")
    x = np.linspace(280, 292, 160)
    rng = np.random.default_rng(4)
    c = 284.0 + 0.01 * np.arange(30)
    s = np.stack([rng.poisson(25 + 1500 * np.exp(-0.5 * ((x - ci) / 0.45) ** 2)) for ci in c]).astype(float)
    if bad:
        s[7, 3] = np.nan
    path = tmp_path / "cube.h5"
    with h5py.File(path, "w") as f:
        f["spectra"] = s.reshape(5, 6, 160)
        f["energy"] = x
        f.attrs["energy_scale"] = "binding"
    return path


def test_batch_maps_images_and_a_bad_pixel(cli, tmp_path):
    h5py = pytest.importorskip("h5py")
    cube = _cube(tmp_path)
    res = run(cli, "spectra", "batch", cube, "--spectra", "spectra", "--energy", "energy", "--peaks", "1",
              "--method", "em", "--background", "constant", "--chunk-size", "8", "-o", tmp_path / "maps.h5",
              "--map", f"peak1/center:{tmp_path / 'c.png'}", "--map", f"chi2:{tmp_path / 'chi2.svg'}")
    assert res.returncode == 0, res.stderr
    assert "29 ok" in res.stdout and "1 bad" in res.stdout
    with h5py.File(tmp_path / "maps.h5") as f:
        assert f["status"].shape == (5, 6) and f["status"][1, 1] == 2
        assert abs(f["peak1/center"][0, 0] - 284.0) < 0.03
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    ET.parse(tmp_path / "chi2.svg")
    assert not (tmp_path / "maps.h5.parts").exists()


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed")
def test_batch_under_mpirun_with_two_ranks_equals_serial(cli, tmp_path):
    h5py = pytest.importorskip("h5py")
    cube = _cube(tmp_path, bad=False)
    common = ["spectra", "batch", cube, "--peaks", "1", "--method", "em", "--background", "constant",
              "--chunk-size", "4", "--threads", "1", "--no-warm-start", "-q"]
    res1 = run(cli, *common, "-o", tmp_path / "serial.h5")
    assert res1.returncode == 0, res1.stderr
    mpi = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", cli, *map(str, common), "-o",
                          str(tmp_path / "mpi.h5")], capture_output=True, text=True, timeout=120)
    if mpi.returncode != 0 and ("error: launched by mpirun, but this tsunagu was built without MPI" in mpi.stderr):
        pytest.skip("this tsunagu was built without MPI")
    if mpi.returncode != 0 and ("not enough slots" in mpi.stderr or "ORTE" in mpi.stderr or "PMIx" in mpi.stderr):
        pytest.skip(f"mpirun cannot start here: {mpi.stderr.strip().splitlines()[0]}")
    assert mpi.returncode == 0, mpi.stderr
    assert "on 2 rank(s)" in mpi.stdout
    with h5py.File(tmp_path / "serial.h5") as a, h5py.File(tmp_path / "mpi.h5") as b:
        for name in ("peak1/center", "peak1/area", "chi2", "status"):
            np.testing.assert_array_equal(a[name][()], b[name][()])


@pytest.mark.parametrize("args, code, match", [
    (["fit", "{xps}/casa_header.vms", "--peaks", "1"], 1, "casa_header.vms:1"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "1", "--region", "100:110"], 2, "contains no points"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "150"], 2, "need more than"),
    (["fit", "{xps}/PET_C1s.csv"], 2, "--peaks"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "2", "--shape", "triangle"], 2, "unknown peak shape 'triangle'"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "2", "--colour", "red"], 2, "colour"),
    (["fit", "{xps}/FeO_analyzed.vms", "--peaks", "2", "--block", "3"], 2, "has 1 block"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "2", "--method", "em", "--shape", "ds"], 2, "em fits gauss"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "-1"], 2, "--peaks: must be >= 0, got -1"),
    (["fit", "{xps}/PET_C1s.csv", "--peaks", "2", "--doublet", "1:2:x:0.5"], 2, "splitting 'x'"),
])
def test_bad_input_one_line_nonzero_exit_no_output(cli, shared_dir, tmp_path, args, code, match):
    out = tmp_path / "r.json"
    args = [a.format(xps=shared_dir / "data/xps") for a in args]
    res = run(cli, "spectra", *args, "-o", out)
    assert res.returncode == code, res.stderr
    assert match in one_error_line(res)
    assert not out.exists()


def test_bad_counts_in_csv_named(cli, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("BE,counts\n285.0,10\n284.9,nan\n284.8,12\n")
    res = run(cli, "spectra", "fit", f, "--peaks", "1", "-o", tmp_path / "r.json")
    assert res.returncode != 0
    line = one_error_line(res)
    assert "bad.csv:3" in line


def test_batch_refuses_a_bad_map_request_before_fitting(cli, tmp_path):
    cube = _cube(tmp_path)
    res = run(cli, "spectra", "batch", cube, "--peaks", "1", "--map", f"peak1/center:{tmp_path / 'c.jpg'}",
              "-o", tmp_path / "m.h5")
    assert res.returncode == 2 and "must end in .png or .svg" in one_error_line(res)
    assert not (tmp_path / "m.h5").exists() and not (tmp_path / "m.h5.parts").exists()


def test_batch_bad_dataset_named(cli, tmp_path):
    cube = _cube(tmp_path)
    res = run(cli, "spectra", "batch", cube, "--spectra", "nope", "--peaks", "1", "-o", tmp_path / "m.h5")
    assert res.returncode == 2
    assert "no dataset 'nope'" in one_error_line(res)
    assert not (tmp_path / "m.h5").exists()


def test_info_on_a_cube_lists_datasets_and_fit_refuses_it(cli, tmp_path):
    cube = _cube(tmp_path)
    res = run(cli, "spectra", "info", cube)
    assert res.returncode == 0, res.stderr
    assert "cube: --spectra /spectra --energy /energy  30 spectra x 160 points" in res.stdout
    res = run(cli, "spectra", "fit", cube, "--peaks", "1", "-o", tmp_path / "r.json")
    assert res.returncode == 2 and "is an HDF5 file" in one_error_line(res)

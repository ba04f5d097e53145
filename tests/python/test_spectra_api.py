"""tsunagu.spectra from Python.

Truths: lmfit (an independent least-squares implementation) on identical spectra; scipy's Voigt profile; known
parameters of synthetic spectra; the chemistry of real spectra in ../shared/data/xps (PET C 1s: C-C/C-H, C-O, O-C=O
carbons in a 3:1:1 ratio; FeO Fe 2p: the CasaXPS fit stored in the file); and the bad-input contract (ValueError
naming the problem, no crash).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import tsunagu
import tsunagu.spectra as ts

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


def gauss(x, c, fwhm, area):
    s = fwhm * FWHM_TO_SIGMA
    return area * np.exp(-0.5 * ((x - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def pvoigt(x, c, fwhm, area, eta):
    lor = (fwhm / 2) / math.pi / ((x - c) ** 2 + (fwhm / 2) ** 2)
    return area * ((1 - eta) * gauss(x, c, fwhm, 1.0) + eta * lor)


# ---------------------------------------------------------------------------------------------------- readers
def test_read_all_shared_files_and_reject_the_truncated_one(shared_dir):
    xps = shared_dir / "data" / "xps"
    pet = ts.read(xps / "PET_C1s.csv")
    assert len(pet) == 1 and pet[0].energy.size == 401 and pet[0].scale == "binding"
    feo = ts.read(xps / "FeO_analyzed.vms")
    assert feo[0].name == "Fe 2p" and feo[0].energy.size == 1121 and feo[0].scale == "kinetic"
    assert feo[0].photon_energy == pytest.approx(1486.61)
    for name in ("regular.vms", "irregular.vms", "C1s_sample.csv", "O1s_sample.csv"):
        assert ts.read(xps / name)[0].counts.size > 100
    with pytest.raises(tsunagu.ParseError, match="casa_header.vms:1"):
        ts.read(xps / "casa_header.vms")
    with pytest.raises(tsunagu.IoError, match="no_such_file"):
        ts.read(xps / "no_such_file.vms")


# ---------------------------------------------------------------------------------------------------- fitting
def test_least_squares_matches_lmfit_on_identical_spectrum():
    lmfit = pytest.importorskip("lmfit")
    rng = np.random.default_rng(7)
    x = np.linspace(280, 295, 301)
    truth = [(284.6, 1.0, 3000.0, 0.3), (286.4, 1.2, 1000.0, 0.3), (288.9, 1.1, 900.0, 0.3)]
    mean = 50 + 2.0 * (x - 280) + sum(pvoigt(x, *p) for p in truth)
    y = rng.poisson(mean).astype(float)
    r = ts.fit(x, y, peaks_at=[284.5, 286.5, 289.0], shape="pvoigt", background="linear", weighting="gaussian")
    assert r["converged"]
    # lmfit with the same parametrisation (pvoigt: sigma = fwhm/2, amplitude = area), unit weights.
    model = lmfit.models.LinearModel(prefix="bg_")
    for k in range(3):
        model = model + lmfit.models.PseudoVoigtModel(prefix=f"p{k}_")
    params = model.make_params(bg_slope=0, bg_intercept=50)
    for k, c in enumerate([284.5, 286.5, 289.0]):
        params[f"p{k}_center"].set(value=c)
        params[f"p{k}_sigma"].set(value=0.5, min=0.01)
        params[f"p{k}_amplitude"].set(value=1000, min=0)
        params[f"p{k}_fraction"].set(value=0.3, min=0, max=1)
    out = model.fit(y, params, x=x, fit_kws={"xtol": 1e-12, "ftol": 1e-12})
    for k, p in enumerate(r["peaks"]):
        assert p["center"] == pytest.approx(out.params[f"p{k}_center"].value, abs=2e-4)
        assert p["fwhm"] == pytest.approx(2 * out.params[f"p{k}_sigma"].value, rel=1e-3)
        assert p["area"] == pytest.approx(out.params[f"p{k}_amplitude"].value, rel=1e-3)
        assert p["eta"] == pytest.approx(out.params[f"p{k}_fraction"].value, abs=2e-3)
        # standard errors from the same covariance definition (scaled by reduced chi2 for unit weights)
        assert p["stderr"]["center"] == pytest.approx(out.params[f"p{k}_center"].stderr, rel=0.05)
        assert p["stderr"]["area"] == pytest.approx(out.params[f"p{k}_amplitude"].stderr, rel=0.05)
    assert r["rss"] == pytest.approx(np.sum(out.residual ** 2), rel=1e-6)


def test_voigt_fit_of_noiseless_scipy_voigt_recovers_parameters():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-10, 10, 401)
    sigma, gamma = 0.6, 0.4
    y = 5000.0 * special.voigt_profile(x - 0.3, sigma, gamma) + 10.0
    fl = 2 * gamma
    fg = 2 * math.sqrt(2 * math.log(2)) * sigma
    fv = 0.5346 * fl + math.sqrt(0.2166 * fl ** 2 + fg ** 2)
    r = ts.fit(x, y, peaks=1, shape="voigt", background="constant", weighting="gaussian")
    p = r["peaks"][0]
    assert p["center"] == pytest.approx(0.3, abs=1e-6)
    assert p["area"] == pytest.approx(5000.0, rel=1e-4)
    assert p["fwhm"] == pytest.approx(fv, rel=5e-4)             # Olivero-Longbothum definition of the FWHM
    assert p["lorentz_fraction"] == pytest.approx(fl / fv, rel=5e-3)


@pytest.mark.parametrize("method", ["em", "lsq"])
def test_methods_recover_synthetic_gaussians_within_tolerance(method):
    rng = np.random.default_rng(3)
    x = np.linspace(280, 292, 241)
    truth = [(284.4, 0.8, 4000.0), (286.2, 1.1, 1500.0), (288.6, 1.0, 1000.0)]
    errs = []
    for rep in range(5):
        y = rng.poisson(30 + sum(gauss(x, *p) for p in truth)).astype(float)
        r = ts.fit(x, y, peaks=3, method=method, shape="gauss", background="constant", seed=rep)
        assert r["converged"]
        for p, t in zip(r["peaks"], truth):
            errs.append((p["center"] - t[0], p["fwhm"] / t[1] - 1, p["area"] / t[2] - 1))
    errs = np.abs(np.array(errs))
    assert errs[:, 0].max() < 0.03      # eV
    assert errs[:, 1].max() < 0.08      # relative FWHM
    assert errs[:, 2].max() < 0.08      # relative area


def test_kinetic_energy_report_mirrors_binding(shared_dir):
    s = ts.read(shared_dir / "data" / "xps" / "FeO_analyzed.vms")[0]
    rb = ts.fit(s, peaks=2, method="em", background="shirley", energy="binding", region=(700, 730))
    rk = ts.fit(s, peaks=2, method="em", background="shirley", energy="kinetic",
                region=(1486.61 - 730, 1486.61 - 700))
    cb = sorted(p["center"] for p in rb["peaks"])
    ck = sorted(1486.61 - p["center"] for p in rk["peaks"])
    assert cb == pytest.approx(ck, abs=1e-6)


def test_pet_c1s_three_carbons_in_chemically_sensible_ratio(shared_dir):
    s = ts.read(shared_dir / "data" / "xps" / "PET_C1s.csv")[0]
    r = ts.fit(s, peaks_at=[285.0, 286.5, 289.0], shape="pvoigt", background="shirley", region=(280.5, 292.0))
    assert r["converged"]
    c = [p["center"] for p in r["peaks"]]
    # C-C/C-H ~284.8, C-O ~286.3, O-C=O ~288.8 eV (Beamson & Briggs), up to a common charging shift
    shifts = np.array(c) - np.array([284.8, 286.3, 288.8])
    assert np.ptp(shifts) < 0.5 and abs(shifts.mean()) < 0.6
    f = np.array([p["fraction"] for p in r["peaks"]])
    assert f[0] == pytest.approx(0.6, abs=0.1) and f[1] == pytest.approx(0.2, abs=0.06) and f[2] == pytest.approx(0.2, abs=0.06)


def test_feo_fe2p_doublet_against_casaxps_fit_in_the_file(shared_dir):
    s = ts.read(shared_dir / "data" / "xps" / "FeO_analyzed.vms")[0]
    # CasaXPS (block comments): 2p3/2 at KE 777.563 (BE 709.05, asymmetric LF shape), 2p1/2 at KE 764.482
    # (BE 722.13), satellites ~716 and ~729.9 eV, Tougaard U3 background (C = 551, D = 436).
    r = ts.fit(s, peaks_at=[709.5, 715.5, 723.0, 729.5], shape="pvoigt", background="tougaard",
               tougaard={"C": 551.0, "D": 436.0}, region=(699.85, 749.09),
               doublets=["1:3:13.6:0.5:free", "2:4:13.6:0.5:free"])
    assert r["converged"]
    main, sat, main2, _ = (p["center"] for p in r["peaks"])
    assert main == pytest.approx(709.05, abs=1.5)      # symmetric vs asymmetric shape shifts the centre
    assert main2 - main == pytest.approx(13.6, abs=1e-9)  # the tie holds exactly
    assert r["peaks"][2]["area"] == pytest.approx(0.5 * r["peaks"][0]["area"], rel=1e-9)
    assert 712 < sat < 720                              # Fe2+ charge-transfer satellite region


# ---------------------------------------------------------------------------------------------------- selection
def test_bic_selects_true_number_of_peaks():
    rng = np.random.default_rng(11)
    x = np.linspace(280, 292, 241)
    hits = 0
    for rep in range(10):
        k = 1 + rep % 3
        truth = [(283.0 + 2.5 * j, 0.9, 2000.0) for j in range(k)]
        y = rng.poisson(40 + sum(gauss(x, *p) for p in truth)).astype(float)
        sel = ts.select_peaks(x, y, max_peaks=4, method="bic", shape="gauss", background="constant")
        hits += sel["n_peaks"] == k
        assert len(sel["bic"]) == 4
    assert hits >= 9


# ---------------------------------------------------------------------------------------------------- batch
def test_fit_batch_maps_have_cube_shape_and_bad_pixels_get_a_status():
    rng = np.random.default_rng(5)
    x = np.linspace(280, 292, 200)
    centres = 284.0 + 0.02 * np.arange(24)
    cube = np.stack([rng.poisson(30 + gauss(x, c, 0.9, 3000.0) + gauss(x, 287.5, 1.0, 1000.0)) for c in centres])
    cube = cube.astype(float).reshape(4, 6, 200)
    cube[1, 2, 10] = np.nan
    cube[3, 0, :] = 0
    with pytest.warns(RuntimeWarning, match="2 spectra could not be fitted.*pixel 8"):
        maps = ts.fit_batch(x, cube, peaks=2, method="em", background="constant")
    assert maps["peak1/center"].shape == (4, 6)
    status = maps["status"]
    assert status[1, 2] == 2 and status[3, 0] == 2
    ok = status == 0
    assert ok.sum() == 22
    assert np.allclose(maps["peak1/center"][ok], centres.reshape(4, 6)[ok], atol=0.03)
    assert set(ts.map_names(peaks=2, method="em")) == set(maps)


def test_fit_cube_file_and_png_map(tmp_path):
    h5py = pytest.importorskip("h5py")
    x = np.linspace(280, 292, 150)
    rng = np.random.default_rng(2)
    cube = rng.poisson(20 + gauss(x, 285.0, 1.0, 2000.0), size=(3, 5, 150)).astype(np.float32)
    with h5py.File(tmp_path / "cube.h5", "w") as f:
        f["data/spectra"] = cube
        f["data/energy"] = x
    s = ts.fit_cube(tmp_path / "cube.h5", tmp_path / "maps.h5", spectra="data/spectra", energy="data/energy",
                    peaks=1, method="lsq", background="linear", chunk_size=4)
    assert s["n_pixels"] == 15 and s["n_ok"] == 15 and s["chunks"] == 4
    with h5py.File(tmp_path / "maps.h5") as f:
        assert f["peak1/center"].shape == (3, 5)
        assert np.allclose(f["peak1/center"][()], 285.0, atol=0.05)
    ts.save_map_image(tmp_path / "maps.h5", "peak1/area", tmp_path / "area.png")
    assert (tmp_path / "area.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("mutate, match", [
    (lambda e, y: (e, np.where(np.arange(e.size) == 7, np.nan, y)), "not finite"),
    (lambda e, y: (e, np.where(np.arange(e.size) == 3, -5.0, y)), "negative counts"),
    (lambda e, y: (np.where(np.arange(e.size) == 4, e[3], e), y), "duplicated energy"),
    (lambda e, y: (e[:5], y[:5]), "need more than"),
])
def test_bad_spectra_raise_value_errors_naming_the_problem(mutate, match):
    e = np.linspace(280, 290, 50)
    y = 100 + gauss(e, 285, 1, 1000)
    e2, y2 = mutate(e, y)
    with pytest.raises(ValueError, match=match):
        ts.fit(e2, y2, peaks=2, method="lsq", background="linear")


def test_bad_options_are_rejected():
    e = np.linspace(280, 290, 50)
    y = 100 + gauss(e, 285, 1, 1000)
    with pytest.raises(TypeError, match="unknown option"):
        ts.fit(e, y, peaks=1, colour="red")
    with pytest.raises(ValueError, match="region"):
        ts.fit(e, y, peaks=1, region=(300, 310))
    with pytest.raises(ValueError, match="em fits gauss"):
        ts.fit(e, y, peaks=1, method="em", shape="voigt")
    with pytest.raises(ValueError, match="not one of"):
        ts.fit(e, y, peaks=1, method="magic")
    with pytest.raises(ValueError):
        ts.fit_batch(e, np.ones((3, 49)), peaks=1)
    # counts and seeds are never truncated or wrapped; NaN options are named
    with pytest.raises(ValueError, match="n_peaks.*integer >= 0"):
        ts.fit(e, y, peaks=-1)
    with pytest.raises(ValueError, match="n_peaks.*expected an integer"):
        ts.fit(e, y, peaks=2.5)
    with pytest.raises(ValueError, match="seed"):
        ts.fit(e, y, peaks=1, seed=-3)
    with pytest.raises(ValueError, match="min_fwhm must be finite"):
        ts.fit(e, y, peaks=1, min_fwhm=float("nan"))
    with pytest.raises(ValueError, match="--doublet '1:2'"):
        ts.fit(e, y, peaks=2, doublets=["1:2"])
    assert len(ts.fit(e, y, peaks=np.int64(1))["peaks"]) == 1

"""The `tsunagu` command-line interface, run as a subprocess (fixture ``cli``).

Truths used: the same library through Python (the CLI and the bindings must agree exactly), the linear model
written in model.json (predictions = intercept + X @ coef), XML well-formedness of the SVG figures, and the error
contract: a non-zero exit status, a single 'error: ...' line on stderr naming the problem, and no output file.
"""
from __future__ import annotations

import csv
import io as _io
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tsunagu
from tsunagu import sparse


def run(cli, *args, cwd=None, timeout=60):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def read_csv(text_or_path):
    text = Path(text_or_path).read_text() if isinstance(text_or_path, Path) else text_or_path
    rows = list(csv.reader(_io.StringIO(text)))
    return rows[0], rows[1:]


def assert_svg(path):
    assert path.is_file(), path
    assert ET.parse(path).getroot().tag.endswith("svg")


def write_csv(path, header, values):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in values:
            w.writerow([v if isinstance(v, str) else repr(float(v)) for v in row])
    return path


@pytest.fixture(scope="module")
def fitted(cli, prostate_csv, tmp_path_factory):
    """`tsunagu sparse fit prostate.csv --target lpsa -o model.json --plot-prefix P --seed 1`, run once."""
    d = tmp_path_factory.mktemp("fit")
    r = run(cli, "sparse", "fit", prostate_csv, "--target", "lpsa", "-o", "model.json", "--plot-prefix", "P",
            "--seed", "1", cwd=d)
    return d, r


# ------------------------------------------------------------------------------------------------------------------
def test_version_and_help(cli):
    r = run(cli, "--version")
    assert r.returncode == 0
    assert r.stdout.strip() == "tsunagu 0.1.0"
    assert tsunagu.__version__ == "0.1.0"
    for args in (["--help"], ["sparse", "--help"], ["sparse", "fit", "--help"], ["sparse", "predict", "--help"],
                 ["sparse", "screen", "--help"], ["sparse", "exhaustive", "--help"]):
        r = run(cli, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert "Usage" in r.stdout or "usage" in r.stdout.lower()
    assert "--target" in run(cli, "sparse", "fit", "--help").stdout


def test_xas_and_bio_are_handed_to_tsunagu_nn_and_a_missing_one_is_named(cli, tmp_path):
    """`tsunagu` leaves LibTorch out (it costs ~0.35 s per process start); `tsunagu xas|bio ...` becomes
    `tsunagu-nn xas|bio ...` from the same directory, also after --quiet."""
    listing = run(cli, "--help").stdout
    assert re.search(r"^\s+xas\s", listing, re.M) and re.search(r"^\s+bio\s", listing, re.M)
    for args, usage in ((["xas", "--help"], "Usage: tsunagu xas"), (["-q", "bio", "--help"], "Usage: tsunagu bio"),
                        (["bio", "descriptors", "--help"], "Usage: tsunagu bio descriptors")):
        r = run(cli, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert usage in r.stdout, r.stdout
    r = run(cli, "xas", "--no-such-option")
    assert r.returncode == 2 and r.stderr.startswith("error:")
    # a tsunagu without its tsunagu-nn beside it says what is missing, in one line, and fails
    lone = tmp_path / "tsunagu"
    lone.write_bytes(Path(cli).read_bytes())
    lone.chmod(0o755)
    r = run(lone, "xas", "--help")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "tsunagu-nn" in lines[0] and str(tmp_path) in lines[0], r.stderr
    assert run(lone, "sparse", "--help").returncode == 0  # everything else works without it


def test_missing_subcommand_is_a_usage_error(cli):
    r = run(cli)
    assert r.returncode != 0
    assert r.stderr.startswith("error:")


# ------------------------------------------------------------------------------------------------------------------
# fit
def test_fit_writes_model_json_and_svg_plots(fitted):
    d, r = fitted
    assert r.returncode == 0, r.stderr
    model = json.loads((d / "model.json").read_text())
    assert model["features"] == ["lcavol", "lweight", "age", "lbph", "svi", "lcp", "gleason", "pgg45"]
    assert model["target"] == "lpsa"
    assert model["penalty"] == "mcp" and model["gamma"] == 3
    assert len(model["lambda"]) == 100 and len(model["intercept"]) == 100
    assert len(model["coef"]) == 100 and all(len(c) == 8 for c in model["coef"])
    cv = model["cv"]
    assert {"mean", "se", "lambda_min", "lambda_1se"} <= set(cv)
    assert len(cv["mean"]) == len(cv["se"]) == 100
    assert cv["lambda_1se"] >= cv["lambda_min"]
    assert model["formula"].startswith("lpsa = ")
    assert_svg(d / "P_cv.svg")
    assert_svg(d / "P_path.svg")
    assert "lambda_min" in r.stdout and "formula (lambda_min): lpsa = " in r.stdout


def test_fit_equals_python_mcp_with_the_same_settings(fitted, prostate):
    d, r = fitted
    assert r.returncode == 0, r.stderr
    X, y, names, target = prostate
    est = sparse.MCP(cv=10, seed=1).fit(X, y, feature_names=names)
    model = json.loads((d / "model.json").read_text())
    np.testing.assert_allclose(np.asarray(model["lambda"]), np.asarray(est.path_.lambda_), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(model["coef"]), np.asarray(est.path_.beta).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(model["intercept"]), np.asarray(est.path_.intercept), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(model["cv"]["mean"]), np.asarray(est.cv_.mean), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(model["cv"]["se"]), np.asarray(est.cv_.se), rtol=1e-12)
    assert model["cv"]["lambda_min"] == pytest.approx(est.cv_.lambda_min, rel=1e-14)
    assert model["cv"]["lambda_1se"] == pytest.approx(est.cv_.lambda_1se, rel=1e-14)
    assert model["cv"]["fold_ids"] == list(est.cv_.fold_ids)
    assert model["formula"] == est.formula(target=target)
    # and the Python loader reads the CLI's file
    back = sparse.MCP.load(d / "model.json")
    np.testing.assert_allclose(back.predict(X), est.predict(X), rtol=1e-13)


def test_fit_options_reach_the_library(cli, prostate_csv, prostate, tmp_path):
    X, y, names, _ = prostate
    r = run(cli, "sparse", "fit", prostate_csv, "--target", "lpsa", "-o", "m.json", "--penalty", "scad",
            "--gamma", "4", "--alpha", "0.5", "--nlambda", "20", "--folds", "5", "--seed", "3",
            "--penalty-factor", "lcavol=0,age=2", "--exclude", "pgg45", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    model = json.loads((tmp_path / "m.json").read_text())
    keep = [j for j, n in enumerate(names) if n != "pgg45"]
    pf = np.ones(7)
    pf[0], pf[2] = 0.0, 2.0
    est = sparse.SCAD(gamma=4, alpha=0.5, nlambda=20, cv=5, seed=3, penalty_factor=pf).fit(X[:, keep], y)
    assert model["features"] == [names[j] for j in keep]
    np.testing.assert_allclose(np.asarray(model["coef"]), np.asarray(est.path_.beta).T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(model["cv"]["mean"]), np.asarray(est.cv_.mean), rtol=1e-12)
    assert model["penalty_factor"] == list(pf)


# ------------------------------------------------------------------------------------------------------------------
# predict / screen
def test_predict_writes_intercept_plus_x_coef_at_lambda_1se(cli, fitted, prostate_csv, prostate, tmp_path):
    d, r = fitted
    assert r.returncode == 0, r.stderr
    X, y, names, _ = prostate
    model = json.loads((d / "model.json").read_text())
    k = model["cv"]["index_1se"]
    expected = model["intercept"][k] + X @ np.asarray(model["coef"][k])
    out = tmp_path / "out.csv"
    r = run(cli, "sparse", "predict", d / "model.json", prostate_csv, "--lambda", "1se", "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    header, rows = read_csv(out)
    assert header == names + ["lpsa", "predicted_lpsa"]
    assert len(rows) == 97
    np.testing.assert_allclose([float(row[-1]) for row in rows], expected, rtol=1e-13, atol=1e-14)
    # without -o: the same CSV on stdout
    r2 = run(cli, "sparse", "predict", d / "model.json", prostate_csv, "--lambda", "1se")
    assert r2.returncode == 0, r2.stderr
    assert read_csv(r2.stdout) == (header, rows)
    # default λ is λ_min
    r3 = run(cli, "sparse", "predict", d / "model.json", prostate_csv, "-q")
    k = model["cv"]["index_min"]
    pred = [float(row[-1]) for row in read_csv(r3.stdout)[1]]
    np.testing.assert_allclose(pred, model["intercept"][k] + X @ np.asarray(model["coef"][k]), rtol=1e-13)


def test_predict_keeps_the_input_cells_verbatim(cli, fitted, prostate_csv, tmp_path):
    d, _ = fitted
    r = run(cli, "sparse", "predict", d / "model.json", prostate_csv, "-o", tmp_path / "o.csv", "-q")
    assert r.returncode == 0, r.stderr
    _, rows = read_csv(tmp_path / "o.csv")
    _, original = read_csv(prostate_csv)
    assert [row[:-1] for row in rows] == original


@pytest.mark.parametrize("minimize", [False, True])
def test_screen_ranks_candidates(cli, fitted, prostate_csv, prostate, tmp_path, minimize):
    d, _ = fitted
    X, _, names, _ = prostate
    cands = write_csv(tmp_path / "cands.csv", ["id"] + names, [[f"c{i}"] + list(X[i] + 0.1 * i) for i in range(8)])
    model = json.loads((d / "model.json").read_text())
    k = model["cv"]["index_min"]
    Xc = np.array([X[i] + 0.1 * i for i in range(8)])
    pred = model["intercept"][k] + Xc @ np.asarray(model["coef"][k])
    args = ["sparse", "screen", d / "model.json", cands, "--top", "3"] + (["--minimize"] if minimize else [])
    r = run(cli, *args)
    assert r.returncode == 0, r.stderr
    header, rows = read_csv(r.stdout)
    assert header == ["rank", "id"] + names + ["predicted_lpsa"]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    order = np.argsort(pred if minimize else -pred)[:3]
    assert [row[1] for row in rows] == [f"c{i}" for i in order]
    np.testing.assert_allclose([float(row[-1]) for row in rows], pred[order], rtol=1e-13)


# ------------------------------------------------------------------------------------------------------------------
# exhaustive
def test_exhaustive_writes_ranked_models_and_dos_equal_to_python(cli, prostate_csv, prostate, tmp_path):
    X, y, names, _ = prostate
    r = run(cli, "sparse", "exhaustive", prostate_csv, "--target", "lpsa", "--max-k", "2", "-o", "es.json",
            "--plot", "w.svg", "--dos-plot", "d.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "es.json").read_text())
    es = sparse.ExhaustiveSearch(max_k=2, folds=5, seed=0).fit(X, y, feature_names=names, target="lpsa")
    assert doc["n_subsets"] == es.n_subsets_ == 8 + 28
    assert len(doc["models"]) == len(es.models_) == 20
    for rank, (m, p) in enumerate(zip(doc["models"], es.models_), start=1):
        assert m["rank"] == rank
        assert m["features"] == p["features"]
        np.testing.assert_allclose(m["coefficients"], p["coef"], rtol=1e-13)
        assert m["intercept"] == pytest.approx(p["intercept"], rel=1e-13)
        assert m["cv_error"] == pytest.approx(p["cv_error"], rel=1e-13)
        assert m["formula"] == p["formula"]
    cv_errors = [m["cv_error"] for m in doc["models"]]
    assert cv_errors == sorted(cv_errors)
    np.testing.assert_allclose(doc["dos"]["edges"], es.dos_["edges"], rtol=1e-13)
    assert doc["dos"]["counts"] == list(es.dos_["counts"])
    assert sum(doc["dos"]["counts"]) == 36
    assert_svg(tmp_path / "w.svg")
    assert_svg(tmp_path / "d.svg")
    assert "#1  cv_rmse" in r.stdout


def test_exhaustive_refuses_a_search_estimated_to_exceed_the_time_limit(cli, tmp_path):
    rng = np.random.default_rng(0)
    data = write_csv(tmp_path / "p60.csv", [f"x{j}" for j in range(60)] + ["y"], rng.standard_normal((40, 61)))
    r = run(cli, "sparse", "exhaustive", data, "--target", "y", "--max-k", "6", "--time-limit", "5", "-o",
            tmp_path / "es.json", timeout=30)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "would take about" in lines[0] and "--time-limit" in lines[0]
    assert not (tmp_path / "es.json").exists()


# ------------------------------------------------------------------------------------------------------------------
# bad input: non-zero exit, one 'error:' line, no output file
def _ten_rows(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 3))
    return write_csv(tmp_path / "ten.csv", ["a", "b", "c", "y"], np.column_stack([X, X[:, 0] + rng.random(10)]))


def _with_cell(tmp_path, name, cell, n=12):
    rng = np.random.default_rng(4)
    rows = [[repr(float(v)) for v in r] for r in rng.standard_normal((n, 3))]
    if n > 4:
        rows[4][1] = cell  # line 6 of the file
    return write_csv(tmp_path / name, ["a", "b", "y"], rows)


def _bad_cases():
    return {
        "missing target": (lambda t, p: ["sparse", "fit", p, "--target", "nope", "-o", t / "out.json"],
                           [r"no column 'nope'", r"columns: lcavol, lweight, age"]),
        "non-numeric cell": (lambda t, p: ["sparse", "fit", _with_cell(t, "nn.csv", "abc"), "--target", "y",
                                           "-o", t / "out.json"],
                             [r"nn\.csv:6", r"column 'b'", r"non-numeric value 'abc'"]),
        "empty cell": (lambda t, p: ["sparse", "fit", _with_cell(t, "em.csv", ""), "--target", "y", "-o",
                                     t / "out.json"], [r"em\.csv:6", r"column 'b'", "missing value"]),
        "NaN cell": (lambda t, p: ["sparse", "fit", _with_cell(t, "nan.csv", "NaN"), "--target", "y", "-o",
                                   t / "out.json"], [r"nan\.csv:6", r"column 'b'", "missing value"]),
        "Inf cell": (lambda t, p: ["sparse", "fit", _with_cell(t, "inf.csv", "-inf"), "--target", "y", "-o",
                                   t / "out.json"], [r"inf\.csv:6", r"column 'b'", "non-finite value '-inf'"]),
        "two rows": (lambda t, p: ["sparse", "fit", _with_cell(t, "two.csv", "1", n=2), "--target", "y", "-o",
                                   t / "out.json", "--no-cv"], [r"at least 3 rows \(got 2\)"]),
        "50 folds on 10 rows": (lambda t, p: ["sparse", "fit", _ten_rows(t), "--target", "y", "-o", t / "out.json",
                                              "--folds", "50"], [r"folds: 50 folds for only 10 rows"]),
        "gamma 0.5": (lambda t, p: ["sparse", "fit", _ten_rows(t), "--target", "y", "-o", t / "out.json",
                                    "--gamma", "0.5"], [r"gamma: must be > 1 for MCP \(got 0\.5\)"]),
        "penalty foo": (lambda t, p: ["sparse", "fit", _ten_rows(t), "--target", "y", "-o", t / "out.json",
                                      "--penalty", "foo"], [r"penalty: unknown value 'foo'"]),
        "unknown option": (lambda t, p: ["sparse", "fit", _ten_rows(t), "--target", "y", "-o", t / "out.json",
                                         "--frobnicate"], [r"--frobnicate"]),
        "missing data file": (lambda t, p: ["sparse", "fit", t / "nonexistent.csv", "--target", "y", "-o",
                                            t / "out.json"], [r"nonexistent\.csv"]),
        "bad --penalty-factor": (lambda t, p: ["sparse", "fit", _ten_rows(t), "--target", "y", "-o",
                                               t / "out.json", "--penalty-factor", "zz=1"],
                                 [r"--penalty-factor: 'zz' is not a feature"]),
        "bad --max-k": (lambda t, p: ["sparse", "exhaustive", _ten_rows(t), "--target", "y", "--max-k", "x", "-o",
                                      t / "out.json"], [r"--max-k"]),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_fails_with_one_error_line_and_no_output_file(cli, prostate_csv, tmp_path, case):
    build, patterns = _bad_cases()[case]
    work = tmp_path / "w"
    work.mkdir()
    args = build(work, prostate_csv)
    before = set(work.iterdir())
    r = run(cli, *args, cwd=work)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: "), r.stderr
    assert len([ln for ln in lines if ln.startswith("error:")]) == 1
    # at most a usage hint after the error line; no progress output
    assert all(ln == "run with --help for usage" for ln in lines[1:]), r.stderr
    for pat in patterns:
        assert re.search(pat, lines[0]), (pat, lines[0])
    assert r.stdout == ""
    assert set(work.iterdir()) == before, "an output or temporary file was created"
    if case == "unknown option":
        assert r.returncode == 2


def test_drop_missing_skips_rows_with_empty_cells_and_notes_it(cli, tmp_path):
    data = _with_cell(tmp_path, "em.csv", "", n=30)
    r = run(cli, "sparse", "fit", data, "--target", "y", "-o", tmp_path / "m.json", "--drop-missing", "--folds", "5")
    assert r.returncode == 0, r.stderr
    assert "note: dropped 1 rows with missing values" in r.stderr
    assert "data: 29 rows" in r.stdout
    assert len(json.loads((tmp_path / "m.json").read_text())["cv"]["fold_ids"]) == 29


def test_predict_with_corrupt_model_or_missing_feature_column_fails_cleanly(cli, fitted, prostate_csv, tmp_path):
    d, _ = fitted
    text = (d / "model.json").read_text()
    cases = {
        "truncated": (text[: len(text) // 3], prostate_csv, [r"trunc\.json", "invalid JSON"]),
        "not an object": ("[1, 2, 3]", prostate_csv, [r"trunc\.json", "not a JSON object"]),
        "field missing": (json.dumps({k: v for k, v in json.loads(text).items() if k != "coef"}), prostate_csv,
                          [r"trunc\.json", "missing field 'coef'"]),
        "lacks feature": (text, write_csv(tmp_path / "lack.csv", ["lcavol", "lweight"], [[1, 2], [3, 4]]),
                          [r"lack\.csv", "no column 'age'"]),
    }
    for name, (model_text, data, patterns) in cases.items():
        (tmp_path / "trunc.json").write_text(model_text)
        out = tmp_path / "pred.csv"
        r = run(cli, "sparse", "predict", tmp_path / "trunc.json", data, "-o", out)
        assert r.returncode != 0, name
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, r.stderr)
        for pat in patterns:
            assert re.search(pat, lines[0]), (name, pat, lines[0])
        assert not out.exists(), name
    # 'min' on a model fitted without CV
    r = run(cli, "sparse", "fit", prostate_csv, "--target", "lpsa", "--no-cv", "-o", tmp_path / "nocv.json", "-q")
    assert r.returncode == 0
    r = run(cli, "sparse", "predict", tmp_path / "nocv.json", prostate_csv, "-o", tmp_path / "p.csv")
    assert r.returncode != 0 and "needs cross-validation" in r.stderr
    assert not (tmp_path / "p.csv").exists()


def test_quiet_suppresses_progress_and_notes(cli, prostate_csv, tmp_path):
    data = _with_cell(tmp_path, "em.csv", "", n=30)
    r = run(cli, "--quiet", "sparse", "fit", data, "--target", "y", "-o", tmp_path / "m.json", "--drop-missing")
    assert r.returncode == 0 and r.stderr == ""
    r = run(cli, "sparse", "fit", prostate_csv, "--target", "lpsa", "-o", tmp_path / "m2.json", "-q")
    assert r.returncode == 0 and r.stderr == ""  # -q after the verb works too
    r = run(cli, "-q", "sparse", "predict", tmp_path / "m2.json", prostate_csv, "-o", tmp_path / "p.csv")
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""
    r = run(cli, "-q", "sparse", "screen", tmp_path / "m2.json", prostate_csv, "--top", "2")
    assert r.returncode == 0 and r.stderr == ""
    r = run(cli, "-q", "sparse", "exhaustive", prostate_csv, "--target", "lpsa", "--max-k", "2", "-o",
            tmp_path / "es.json")
    assert r.returncode == 0 and r.stderr == ""
    # without --quiet there is something on stderr (progress / notes)
    r = run(cli, "sparse", "predict", tmp_path / "m2.json", prostate_csv, "-o", tmp_path / "p2.csv")
    assert r.returncode == 0 and "model at lambda" in r.stderr


# ------------------------------------------------------------------------------------------------------------------
# CV designs through the CLI
def test_loocv_and_repeats_equal_python(cli, tmp_path):
    data = _ten_rows(tmp_path)
    X = np.loadtxt(data, delimiter=",", skiprows=1)
    X, y = X[:, :3], X[:, 3]
    r = run(cli, "-q", "sparse", "fit", data, "--target", "y", "--loocv", "-o", tmp_path / "loo.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "loo.json").read_text())
    est = sparse.MCP(loocv=True).fit(X, y)
    assert doc["cv"]["folds"] == 10
    np.testing.assert_allclose(doc["cv"]["mean"], np.asarray(est.cv_.mean), rtol=1e-12)
    r = run(cli, "-q", "sparse", "fit", data, "--target", "y", "--folds", "3", "--repeats", "4", "--seed", "5",
            "-o", tmp_path / "rep.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "rep.json").read_text())
    est = sparse.MCP(cv=3, repeats=4, seed=5).fit(X, y)
    assert doc["cv"]["repeats"] == 4
    np.testing.assert_allclose(doc["cv"]["mean"], np.asarray(est.cv_.mean), rtol=1e-12)
    np.testing.assert_allclose(doc["cv"]["se"], np.asarray(est.cv_.se), rtol=1e-12)


def _fold_col_csv(tmp_path):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 3))
    y = X[:, 0] + 0.3 * rng.standard_normal(30)
    folds = np.arange(30) % 3 + 1
    return write_csv(tmp_path / "fc.csv", ["a", "b", "c", "y", "fold"],
                     [list(X[i]) + [y[i], str(folds[i])] for i in range(30)]), X, y, folds


def test_fold_col_gives_user_folds_1_to_k(cli, tmp_path):
    data, X, y, folds = _fold_col_csv(tmp_path)
    r = run(cli, "-q", "sparse", "fit", data, "--target", "y", "--fold-col", "fold", "--exclude", "fold", "-o",
            tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["features"] == ["a", "b", "c"]
    assert doc["cv"]["fold_ids"] == list(folds - 1)
    est = sparse.MCP().fit(X, y, fold_ids=folds - 1)
    np.testing.assert_allclose(doc["cv"]["mean"], np.asarray(est.cv_.mean), rtol=1e-12)


def test_fold_col_is_not_used_as_a_feature(cli, tmp_path):
    data, *_ = _fold_col_csv(tmp_path)
    r = run(cli, "-q", "sparse", "fit", data, "--target", "y", "--fold-col", "fold", "-o", tmp_path / "m.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "m.json").read_text())["features"] == ["a", "b", "c"]


def test_predict_at_a_numeric_lambda_uses_the_nearest_path_value(cli, fitted, prostate_csv, prostate):
    d, _ = fitted
    X = prostate[0]
    model = json.loads((d / "model.json").read_text())
    lam = np.asarray(model["lambda"])
    k = 37
    r = run(cli, "-q", "sparse", "predict", d / "model.json", prostate_csv, "--lambda", repr(float(lam[k] * 1.02)))
    assert r.returncode == 0, r.stderr
    pred = [float(row[-1]) for row in read_csv(r.stdout)[1]]
    np.testing.assert_allclose(pred, model["intercept"][k] + X @ np.asarray(model["coef"][k]), rtol=1e-13)
    r = run(cli, "-q", "sparse", "predict", d / "model.json", prostate_csv, "--lambda", "abc")
    assert r.returncode != 0 and r.stderr.startswith("error: lambda: expected 'min', '1se' or a number")


def test_predict_to_stdout_writes_the_same_csv_as_to_a_file(cli, fitted, prostate_csv, tmp_path):
    d, _ = fitted
    header, rows = read_csv(prostate_csv)
    text = "id," + ",".join(header) + "\n"
    text += '"#first",' + ",".join(rows[0]) + "\n"
    text += '" padded ",' + ",".join(rows[1]) + "\n"
    text += "plain," + ",".join(rows[2]) + "\n"
    data = tmp_path / "ids.csv"
    data.write_text(text)
    r_file = run(cli, "-q", "sparse", "predict", d / "model.json", data, "-o", tmp_path / "p.csv")
    r_out = run(cli, "-q", "sparse", "predict", d / "model.json", data)
    assert r_file.returncode == 0 and r_out.returncode == 0
    assert r_out.stdout == (tmp_path / "p.csv").read_text()


@pytest.mark.parametrize("verb", ["fit", "exhaustive"])
def test_a_failed_run_leaves_no_output_file(cli, prostate_csv, tmp_path, verb):
    if verb == "fit":
        args = ["sparse", "fit", prostate_csv, "--target", "lpsa", "-o", "out.json", "--plot-prefix", "nodir/P"]
    else:
        args = ["sparse", "exhaustive", prostate_csv, "--target", "lpsa", "--max-k", "2", "-o", "out.json",
                "--plot", "nodir/w.svg"]
    r = run(cli, "-q", *args, cwd=tmp_path)
    assert r.returncode != 0
    assert r.stderr.startswith("error: cannot write 'nodir/")
    assert list(tmp_path.iterdir()) == []


def test_output_into_a_missing_directory_fails_cleanly(cli, prostate_csv, tmp_path):
    r = run(cli, "-q", "sparse", "fit", prostate_csv, "--target", "lpsa", "-o", tmp_path / "nodir" / "m.json")
    assert r.returncode == 1
    assert r.stderr.startswith("error: cannot write") and r.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_fold_col_with_a_missing_fold_is_refused_naming_the_column(cli, tmp_path):
    data, *_ = _fold_col_csv(tmp_path)
    r = run(cli, "sparse", "fit", data, "--target", "y", "--fold-col", "a", "-o", tmp_path / "m.json")
    assert r.returncode == 2
    assert r.stderr.startswith("error: --fold-col: column 'a'"), r.stderr
    assert not (tmp_path / "m.json").exists()

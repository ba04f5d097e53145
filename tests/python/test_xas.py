"""tsunagu.xas (Python) and `tsunagu xas train|predict|evaluate` (CLI): synthetic tables with a known
structure -> spectrum map, the real Fe K-edge XANES set when ../shared is present, and bad input."""
from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest

import tsunagu
from tsunagu.xas import Model

QUICK = dict(hidden=[32, 32], epochs=60, patience=20, batch_size=16, learning_rate=3e-3)


def synthetic_table(path, materials=20, per=2, seed=1):
    """Spectra = edge step + Gaussian white line at 7110 + 4 d0 eV with width 2 + 0.8 d1, on 7100..7130 eV."""
    rng = np.random.default_rng(seed)
    e = np.linspace(7100, 7130, 40)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "group"] + [f"d{k}" for k in range(3)] + [f"s{k}" for k in range(40)])
        for m in range(materials):
            b0, b1 = rng.uniform(-1, 1, 2)
            for r in range(per):
                d = [b0 + 0.05 * rng.uniform(-1, 1), b1 + 0.05 * rng.uniform(-1, 1), rng.uniform(-1, 1)]
                c, wd = 7110 + 4 * d[0], 2 + 0.8 * d[1]
                mu = 1 / (1 + np.exp(-(e - 7108))) + 1.5 * np.exp(-0.5 * (e - c) ** 2 / wd ** 2)
                w.writerow([f"m{m}_{r}", f"m{m}"] + [f"{x:.10g}" for x in d] + [f"{x:.10g}" for x in mu])
    return path


def test_python_train_evaluate_save_load_on_a_table(tmp_path):
    data = synthetic_table(tmp_path / "t.csv")
    m = Model.train(data, format="table", table_mesh="7100:7130:40", folds=3, seed=0, threads=1, **QUICK)
    s = m.summary
    assert s["records"] == 40 and s["groups"] == 20 and s["input"] == "table"
    cv = s["cv"]
    assert set(cv) >= {"folds", "model", "mean", "knn"}
    assert cv["model"]["mse"]["mean"] < cv["mean"]["mse"]["mean"]
    r = m.evaluate(data, format="table", table_mesh="7100:7130:40", plot=tmp_path / "p.svg")
    for k in ("mse", "pearson_median", "frac_pearson_gt_0.95", "peak_position_mae"):
        assert k in r and k in r["baselines"]["mean"] and k in r["baselines"]["knn"]
    assert r["predicted"].shape == (40, 40)
    assert (tmp_path / "p.svg").read_text().startswith("<svg") or "<svg" in (tmp_path / "p.svg").read_text()[:200]
    m.save(tmp_path / "m.tsx")
    m2 = Model.load(tmp_path / "m.tsx")
    X = np.loadtxt(data, delimiter=",", skiprows=1, usecols=(2, 3, 4))
    np.testing.assert_allclose(m2.predict_features(X), m.predict_features(X), rtol=1e-12)
    np.testing.assert_allclose(m2.mesh, np.linspace(7100, 7130, 40))


def test_python_bad_options_and_files(tmp_path):
    data = synthetic_table(tmp_path / "t.csv", materials=6)
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option"):
        Model.train(data, format="table", epochz=3)
    with pytest.raises(tsunagu.InvalidArgument, match="mesh"):
        Model.train(data, format="table", table_mesh="7100:7130:39")  # 40 spectrum columns
    (tmp_path / "junk.tsx").write_text("not a model")
    with pytest.raises(tsunagu.ParseError, match="junk.tsx"):
        Model.load(tmp_path / "junk.tsx")


def run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


def test_cli_train_evaluate_contract_on_a_table(cli, tmp_path):
    data = synthetic_table(tmp_path / "t.csv")
    model, rep = tmp_path / "m.tsx", tmp_path / "r.json"
    r = run(cli, "-q", "xas", "train", data, "--format", "table", "--table-mesh", "7100:7130:40", "--epochs", 60,
            "--hidden", "32,32", "--folds", 3, "--seed", 1, "--threads", 1, "-o", model, "--report", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    assert "cross-validation" in r.stdout and "knn" in r.stdout
    r = run(cli, "-q", "xas", "evaluate", model, data, "--format", "table", "--table-mesh", "7100:7130:40", "-o", rep)
    assert r.returncode == 0, r.stderr
    report = json.loads(rep.read_text())
    for k in ("mse", "pearson_median", "frac_pearson_gt_0.95", "peak_position_mae"):
        assert k in report
        assert k in report["baselines"]["mean"] and k in report["baselines"]["knn"]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["cv"]["folds"] == 3


def test_cli_errors_are_one_line(cli, tmp_path):
    data = synthetic_table(tmp_path / "t.csv", materials=6)
    (tmp_path / "junk.tsx").write_bytes(b"\x00\x01garbage")
    r = run(cli, "xas", "evaluate", tmp_path / "junk.tsx", data, "--format", "table")
    assert r.returncode == 1 and r.stderr.startswith("error:") and r.stderr.count("\n") == 1
    r = run(cli, "xas", "train", data, "--format", "table", "--normalize", "banana", "-o", tmp_path / "m.tsx")
    assert r.returncode == 2 and "banana" in r.stderr
    assert not (tmp_path / "m.tsx").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("d0,s0,s1\n1,0.5\n")
    r = run(cli, "xas", "train", bad, "--format", "table", "-o", tmp_path / "m.tsx")
    assert r.returncode in (1, 2) and "bad.csv" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "m.tsx").exists()


@pytest.fixture(scope="module")
def fe_dir(shared_dir):
    d = shared_dir / "data" / "xas" / "fe_k_edge"
    if not d.is_dir():
        pytest.skip(f"../shared not present: {d}")
    return d


def test_fe_k_edge_cli_train_predict_evaluate(cli, fe_dir, tmp_path):
    model = tmp_path / "fe.tsx"
    r = run(cli, "-q", "xas", "train", fe_dir / "xyz_train", "--format", "xanesnet", "--epochs", 40, "--folds", 0,
            "--seed", 0, "--threads", 1, "-o", model)
    assert r.returncode == 0, r.stderr
    xyz = sorted((fe_dir / "xyz_test").glob("*.xyz"))[:3]
    out, svg = tmp_path / "pred.csv", tmp_path / "pred.svg"
    r = run(cli, "-q", "xas", "predict", model, *xyz, "-o", out, "--plot", svg)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(open(out)))
    assert rows[0][0] == "energy_eV" and len(rows[0]) == 4 and len(rows) == 1 + 226
    assert svg.stat().st_size > 1000
    m = Model.load(model)
    # float32 network: the CLI and this process may sum in different orders (thread counts), so ~1e-7 apart.
    np.testing.assert_allclose(np.array(rows[1:], dtype=float)[:, 1:].T, m.predict([str(p) for p in xyz]),
                               rtol=1e-5, atol=1e-6)
    rep = tmp_path / "rep.json"
    r = run(cli, "-q", "xas", "evaluate", model, fe_dir / "xyz_test", "--format", "xanesnet", "-o", rep)
    assert r.returncode == 0, r.stderr
    assert json.loads(rep.read_text())["n"] == 10
    water = tmp_path / "water.xyz"
    water.write_text("3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n")
    r = run(cli, "xas", "predict", model, water)
    assert r.returncode == 2 and "water.xyz" in r.stderr and "Fe" in r.stderr

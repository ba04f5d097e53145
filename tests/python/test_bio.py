"""tsunagu.bio (Python) and `tsunagu bio descriptors|train|importance|predict` (CLI): RDKit descriptors of known
molecules, planted importances, the ESOL solubility set when ../shared is present, and bad input."""
from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest

import tsunagu
import tsunagu.bio as tb

QUICK = dict(ensemble=3, folds=3, repeats=1, permutation_repeats=3, epochs=300, patience=50, threads=2)


def run(cli, *args):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True)


def test_descriptors_of_known_molecules():
    d = tb.descriptors(["OCCOCCOCCOCCO", "CCCCCCCCCCCCS", "C[N+](C)(C)CC(=O)[O-]", "OCCO"],
                       smarts={"hydroxyl": "[OX2H]"})
    col = {n: d.X[:, i] for i, n in enumerate(d.names)}
    assert list(col["eg_units"]) == [4, 0, 0, 1]       # tetraethylene glycol: 4 -O-CH2-CH2- units
    assert list(col["chain_length"])[1] == 12          # dodecanethiol
    assert list(col["zwitterionic"]) == [0, 0, 1, 0]   # betaine
    assert list(col["smarts_hydroxyl"]) == [2, 0, 0, 2]
    assert d.canonical[3] == "OCCO"
    # Two spellings of one molecule give the same row.
    a = tb.descriptors(["OC(=O)c1ccccc1OC(C)=O", "CC(=O)Oc1ccccc1C(O)=O"])
    np.testing.assert_array_equal(a.X[0], a.X[1])
    m = tb.descriptors(["CCO"], morgan_bits=64)
    assert m.X.shape == (1, len(tb.descriptor_names(morgan_bits=64)))


def test_bad_smiles_and_options_are_one_line_errors():
    with pytest.raises(tsunagu.InvalidArgument, match=r"row 1: unparseable SMILES 'C1CC'"):
        tb.descriptors(["CCO", "C1CC"])
    d = tb.descriptors(["CCO", "C1CC", "c1ccccc1"], skip_invalid=True)
    assert d.rows == [0, 2] and d.excluded[0][0] == 1
    with pytest.raises(ValueError, match="morgan_bits"):  # InvalidArgument or ParseError: both ValueError
        tb.descriptors(["CCO"], morgan_bits=100)
    with pytest.raises(ValueError, match="bad"):
        tb.descriptors(["CCO"], smarts={"bad": "[C"})
    with pytest.raises(tsunagu.InvalidArgument, match="unknown option"):
        tb.Model.train(np.zeros((10, 2)), np.zeros(10), banana=1)


def test_model_recovers_planted_importances_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 4))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=120)
    m = tb.Model.train(X, y, features=["a", "b", "c", "d"], target="ads", seed=1, **QUICK)
    r = m.report
    assert r["cv_r2"]["mean"] > 0.9 and set(r["baselines"]) == {"sparse", "knn"}
    assert {"mean", "sd"} <= set(r["baselines"]["knn"]["cv_rmse"])
    imp = m.importance
    for method in ("garson", "olden", "permutation"):
        ranked = sorted(imp[method], key=lambda e: -abs(e["mean"]))
        assert [e["feature"] for e in ranked[:2]] == ["a", "b"], method
        assert all(e["ci_low"] <= e["mean"] <= e["ci_high"] for e in imp[method])
    assert next(e for e in imp["olden"] if e["feature"] == "b")["mean"] < 0
    mean, sd = m.predict(X[:5])
    assert mean.shape == (5,) and np.all(sd >= 0)
    m.save(tmp_path / "m.tsb")
    back = tb.Model.load(tmp_path / "m.tsb")
    np.testing.assert_array_equal(back.predict(X[:5])[0], mean)
    assert back.report == r
    m.plot_importance(tmp_path / "imp.svg")
    assert (tmp_path / "imp.svg").read_text().startswith("<svg")


def test_cli_descriptors_train_importance_predict(cli, tmp_path):
    mols = ["OCCO", "OCCOCCO", "OCCOCCOCCO", "OCCOCCOCCOCCO", "CCCCCCCCS", "CCCCCCCCCCS", "CCCCCCCCCCCCS",
            "CCCCCCCCCCCCCCCCS", "C[N+](C)(C)CCS", "[O-]S(=O)(=O)CCCS", "NCCS", "OCCS", "CC(=O)OCCS", "c1ccccc1CS",
            "OC(=O)CCS", "C[N+](C)(C)CC(=O)[O-]", "OCC(O)CO", "CCOCCOCCS", "COCCOCCOCCS", "CCCCCCS"]
    rng = np.random.default_rng(3)
    src = tmp_path / "sams.csv"
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "smiles", "adsorption"])
        for i, s in enumerate(mols):
            w.writerow([f"s{i}", s, ""])  # filled below from descriptors
    desc = tmp_path / "desc.csv"
    r = run(cli, "-q", "bio", "descriptors", src, "--smarts", "thiol=[SX2H]", "-o", desc)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(desc)))
    assert rows[0]["canonical_smiles"] == "OCCO" and "smarts_thiol" in rows[0]
    # Planted response: adsorption grows with the alkyl chain and falls with ethylene-glycol units.
    for row in rows:
        row["adsorption"] = f"{10 + 2 * float(row['chain_length']) - 3 * float(row['eg_units']) + rng.normal(0, 0.3):.6f}"
    with open(desc, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    model, rep = tmp_path / "m.tsb", tmp_path / "r.json"
    r = run(cli, "-q", "bio", "train", desc, "--target", "adsorption", "--ensemble", 3, "--folds", 4, "--repeats", 1,
            "--seed", 0, "-o", model, "--report", rep)
    assert r.returncode == 0, r.stderr
    report = json.loads(rep.read_text())
    assert {"cv_r2", "cv_rmse", "baselines"} <= set(report)
    assert {"mean", "sd"} == set(report["cv_r2"])
    imp_json, svg = tmp_path / "imp.json", tmp_path / "imp.svg"
    r = run(cli, "-q", "bio", "importance", model, "-o", imp_json, "--plot", svg)
    assert r.returncode == 0, r.stderr
    imp = json.loads(imp_json.read_text())
    for method in ("garson", "olden", "permutation"):
        assert {"feature", "mean", "ci_low", "ci_high"} <= set(imp[method][0])
    perm = {e["feature"]: e["mean"] for e in imp["permutation"]}
    assert max(perm, key=perm.get) in ("chain_length", "eg_units", "heavy_atoms", "mol_weight")
    assert svg.stat().st_size > 500
    out = tmp_path / "pred.csv"
    r = run(cli, "-q", "bio", "predict", model, desc, "-o", out)
    assert r.returncode == 0, r.stderr
    pred = list(csv.DictReader(open(out)))
    assert len(pred) == len(mols) and pred[0]["rank"] == "1" and "adsorption_pred" in pred[0]


def test_cli_train_from_smiles_then_predict_candidate_smiles(cli, tmp_path):
    mols = ["OCCO", "OCCOCCO", "OCCOCCOCCO", "CCCCCCS", "CCCCCCCCS", "CCCCCCCCCCS", "CCCCCCCCCCCCS", "OCCOCCS",
            "CCOCCOCCS", "NCCS", "OCCS", "CCCCS", "CCCCCCCCCCCCCCS", "OCCOCCOCCOCCO"]
    d = tb.descriptors(mols)
    col = {n: d.X[:, i] for i, n in enumerate(d.names)}
    y = 2 * col["chain_length"] - 3 * col["eg_units"]
    data = tmp_path / "sams.csv"
    data.write_text("id,smiles,ads\n" + "".join(f"m{i},{s},{v}\n" for i, (s, v) in enumerate(zip(mols, y))))
    model = tmp_path / "s.tsb"
    r = run(cli, "-q", "bio", "train", data, "--target", "ads", "--smiles-col", "smiles", "--smarts", "thiol=[SX2H]",
            "--ensemble", 3, "--folds", 3, "--repeats", 1, "-o", model)
    assert r.returncode == 0, r.stderr
    cands = tmp_path / "cands.csv"
    cands.write_text("id,smiles\nlong,CCCCCCCCCCCCCCCCS\npeg,OCCOCCOCCOCCOCCO\n")
    r = run(cli, "-q", "bio", "predict", model, cands)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(r.stdout.splitlines()))
    assert [row["id"] for row in rows] == ["long", "peg"]  # the long alkyl thiol adsorbs most
    m = tb.Model.train_csv(data, "ads", smiles_column="smiles", ensemble=2, folds=0, seed=1)
    mean, sd = m.predict_csv(cands)
    assert mean[0] > mean[1] and sd.shape == (2,)


def test_cli_bad_input_is_one_line_and_leaves_no_output(cli, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("id,smiles\na,CCO\nb,C1CC\n")
    out = tmp_path / "d.csv"
    r = run(cli, "bio", "descriptors", src, "-o", out)
    assert r.returncode != 0 and "bad.csv" in r.stderr and "row 2" in r.stderr and "C1CC" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
    r = run(cli, "bio", "descriptors", src, "--smiles-col", "smi", "-o", out)
    assert r.returncode != 0 and "smi" in r.stderr
    data = tmp_path / "t.csv"
    data.write_text("a,b,y\n1,2,\n2,3,\n3,4,\n")
    r = run(cli, "bio", "train", data, "--target", "y", "-o", tmp_path / "m.tsb")
    assert r.returncode != 0 and "at least 4" in r.stderr and not (tmp_path / "m.tsb").exists()
    (tmp_path / "junk.tsb").write_bytes(b"junk")
    r = run(cli, "bio", "importance", tmp_path / "junk.tsb")
    assert r.returncode != 0 and "junk.tsb" in r.stderr


def test_esol_descriptors_beat_both_baselines(shared_dir, tmp_path):
    path = shared_dir / "data" / "bio" / "esol.csv"
    rows = list(csv.DictReader(open(path)))[:300]
    d = tb.descriptors([r["smiles"] for r in rows])
    y = np.array([float(rows[i]["logS_measured_mol_L"]) for i in d.rows])
    keep = d.X.std(axis=0) > 0
    names = [n for n, k in zip(d.names, keep) if k]
    m = tb.Model.train(d.X[:, keep], y, features=names, target="logS", seed=0, **QUICK)
    r = m.report
    assert r["cv_r2"]["mean"] > r["baselines"]["knn"]["cv_r2"]["mean"] - 0.05
    assert r["cv_r2"]["mean"] > 0.7

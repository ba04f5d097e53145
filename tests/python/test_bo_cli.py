"""`tsunagu bo suggest|pool` as a subprocess.

Truths: the space file (bounds, integer and categorical values), the CSV/JSON contract of the issue (proposal
columns; trace.json `order` as 0-based data rows with averaged duplicates indexed by their first row, the initial
rows first, `best_so_far`), the pool's own objective values (best_so_far recomputed here with numpy from the file),
determinism per seed, and the error contract: exit status 2 (usage) or 1 (bad file), one 'error: ...' line naming the
file/field, and no output file left behind.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess

import numpy as np
import pytest

SPACE = """
[[parameter]]
name = "power"
low = 50
high = 300
unit = "W"

[[parameter]]
name = "o2"
low = 0.1
high = 10.0
log = true

[[parameter]]
name = "cycles"
type = "integer"
low = 1
high = 5

[[parameter]]
name = "target"
type = "categorical"
choices = ["Ti", "Nb"]

[[objective]]
name = "resistivity"
direction = "minimize"
"""

OBS = """power,o2,cycles,target,resistivity
100,1.0,2,Ti,5.1
250,0.3,4,Nb,3.2
180,5.0,1,Ti,7.7
60,0.2,5,Nb,
290,8.0,3,Ti,6.0
140,0.5,2,Nb,2.9
210,2.0,5,Nb,3.8
"""


def run(cli, *args, timeout=120):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def one_error_line(res):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def read_rows(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@pytest.fixture()
def files(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    obs = tmp_path / "obs.csv"
    obs.write_text(OBS)
    return tmp_path, space, obs


def check_proposal(header, row):
    rec = dict(zip(header, row))
    assert 50 <= float(rec["power"]) <= 300
    assert 0.1 <= float(rec["o2"]) <= 10.0
    assert rec["cycles"] in {"1", "2", "3", "4", "5"}
    assert rec["target"] in {"Ti", "Nb"}
    return rec


def test_suggest_writes_valid_distinct_proposals_with_predictions(cli, files):
    d, space, obs = files
    out = d / "next.csv"
    res = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--batch", 3, "--seed", 1, "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert "1 failed" in res.stderr and "P(success)" in res.stderr
    header, rows = read_rows(out.read_text())
    assert header == ["power", "o2", "cycles", "target", "resistivity_mean", "resistivity_sd", "acquisition",
                      "p_feasible"]
    assert len(rows) == 3
    assert len({tuple(r[:4]) for r in rows}) == 3
    for r in rows:
        rec = check_proposal(header, r)
        assert np.isfinite(float(rec["resistivity_mean"])) and float(rec["resistivity_sd"]) >= 0
        assert np.isfinite(float(rec["acquisition"]))
        assert 0 < float(rec["p_feasible"]) < 1  # one experiment failed: the classifier is in play
    # same seed, same data: the same proposals; to stdout without -o
    again = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--batch", 3, "--seed", 1)
    assert again.returncode == 0, again.stderr
    assert again.stdout == out.read_text()


def test_suggest_with_a_learned_input_warp_and_rank_refused(cli, files):
    d, space, obs = files
    res = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--input-warp", "learned", "--seed", 2,
              "--candidates", 200)
    assert res.returncode == 0, res.stderr
    header, rows = read_rows(res.stdout)
    assert len(rows) == 1
    check_proposal(header, rows[0])
    for warp in ("rank", "auto", "rank+learned"):
        res = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--input-warp", warp)
        line = one_error_line(res)
        assert res.returncode == 2 and "input_warp" in line and f"'{warp}'" in line and "pool" in line


@pytest.mark.parametrize("acq,method", [("ei", "kb"), ("ucb", "lp"), ("ts", "kb"), ("nei", "ts"), ("pi", "kb")])
def test_suggest_every_acquisition_and_batch_method(cli, files, acq, method):
    d, space, obs = files
    res = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--batch", 2, "--acq", acq, "--batch-method",
              method, "--kernel", "matern32", "--candidates", 200, "--threads", 1)
    assert res.returncode == 0, res.stderr
    header, rows = read_rows(res.stdout)
    assert len(rows) == 2
    for r in rows:
        check_proposal(header, r)


def test_header_only_or_absent_data_gives_a_random_initial_design(cli, files):
    d, space, _ = files
    empty = d / "empty.csv"
    empty.write_text("power,o2,cycles,target,resistivity\n")
    for extra in (["--data", empty], []):
        res = run(cli, "bo", "suggest", "--space", space, *extra, "--batch", 4, "--seed", 3)
        assert res.returncode == 0, res.stderr
        assert "random" in res.stderr
        header, rows = read_rows(res.stdout)
        assert len(rows) == 4
        for r in rows:
            rec = check_proposal(header, r)
            assert rec["resistivity_mean"] == "" and rec["acquisition"] == ""


def test_pending_experiments_are_not_proposed_again(cli, files):
    d, space, obs = files
    first = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--seed", 5)
    assert first.returncode == 0, first.stderr
    header, rows = read_rows(first.stdout)
    pending = d / "pending.csv"
    pending.write_text(",".join(header[:4]) + "\n" + ",".join(rows[0][:4]) + "\n")
    second = run(cli, "bo", "suggest", "--space", space, "--data", obs, "--pending", pending, "--seed", 5)
    assert second.returncode == 0, second.stderr
    assert "1 pending" in second.stderr
    _, rows2 = read_rows(second.stdout)
    assert rows2[0][:4] != rows[0][:4]


# ------------------------------------------------------------------------------------------------------------------
def make_pool(path):
    """Rows on a 2-D grid with a smooth peak; rows 3 and 7 repeat rows 0 and 2 (measured twice)."""
    rng = np.random.default_rng(0)
    rows = []
    for a in np.linspace(0, 1, 8):
        for b in np.linspace(0, 1, 8):
            rows.append([a, b, float(np.exp(-((a - 0.7) ** 2 + (b - 0.2) ** 2) / 0.1) + 0.01 * rng.standard_normal())])
    rows.insert(3, [rows[0][0], rows[0][1], rows[0][2] + 0.5])
    rows.insert(7, [rows[2][0], rows[2][1], rows[2][2] - 0.3])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "y"])
        for r in rows:
            w.writerow([repr(float(v)) for v in r])
    return np.array(rows)


def averaged_objective(data):
    """Objective per data row after averaging duplicate parameter rows, and each row's group's first row."""
    first, y = {}, np.empty(len(data))
    groups = {}
    for i, r in enumerate(data):
        groups.setdefault((r[0], r[1]), []).append(i)
    for members in groups.values():
        for i in members:
            y[i] = data[members, 2].mean()
            first[i] = members[0]
    return y, first


def test_pool_trace_contract(cli, tmp_path):
    data = make_pool(tmp_path / "pool.csv")
    y, first = averaged_objective(data)
    out = tmp_path / "trace.json"
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 4, "--iterations", 5,
              "--batch", 2, "--seed", 7, "-o", out)
    assert res.returncode == 0, res.stderr
    t = json.loads(out.read_text())
    order = t["order"]
    assert len(order) == 4 + 5 * 2
    assert len(set(order)) == len(order)
    assert all(first[i] == i for i in order)  # averaged duplicates are named by their group's first row
    assert 3 not in order and 7 not in order
    assert t["n_rows"] == 66 and t["n_candidates"] == 64
    assert np.allclose(t["values"], y[order])
    assert np.allclose(t["best_so_far"], np.maximum.accumulate(y[order]))
    assert t["settings"]["initial"] == 4 and t["settings"]["batch"] == 2 and t["settings"]["seed"] == 7
    assert t["settings"]["spread"] == "auto"
    # the pool defaults of the library (bo::pool_optimizer_defaults), reported as used
    assert (t["settings"]["acquisition"], t["settings"]["kappa"], t["settings"]["input_warp"],
            t["settings"]["kernel"], t["settings"]["prior"], t["settings"]["lengthscale_min"]) == \
        ("ucb", 1.0, "rank", "matern32", "none", 0.3)
    assert len(t["timings"]["iteration_seconds"]) == 5
    for warp in ("learned", "rank+learned"):
        res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 4, "--iterations", 3,
                  "--seed", 7, "--input-warp", warp, "-o", out)
        assert res.returncode == 0, res.stderr
        t = json.loads(out.read_text())
        assert t["settings"]["input_warp"] == warp
        assert len(set(t["order"])) == 7 and np.allclose(t["values"], y[t["order"]])
    # the initial rows come first: a run without iterations measures exactly them; same seed, same trace
    init = tmp_path / "init.json"
    assert run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 4, "--iterations", 0,
               "--seed", 7, "-o", init).returncode == 0
    assert json.loads(init.read_text())["order"] == order[:4]
    again = tmp_path / "again.json"
    assert run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 4, "--iterations", 5,
               "--batch", 2, "--seed", 7, "-o", again).returncode == 0
    assert json.loads(again.read_text())["order"] == order


def test_pool_minimize_gives_running_minimum(cli, tmp_path):
    data = make_pool(tmp_path / "pool.csv")
    y, _ = averaged_objective(data)
    out = tmp_path / "trace.json"
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--minimize", "--initial", 3,
              "--iterations", 4, "--acq", "ucb", "-o", out)
    assert res.returncode == 0, res.stderr
    t = json.loads(out.read_text())
    assert np.allclose(t["best_so_far"], np.minimum.accumulate(y[t["order"]]))
    assert t["minimize"] is True


# ------------------------------------------------------------------------------------------------------------------
def test_bad_input_exits_with_one_line_naming_the_problem(cli, files):
    d, space, obs = files
    out = d / "next.csv"
    base = ["bo", "suggest", "--space", space, "--data", obs, "-o", out]

    res = run(cli, *base, "--frobnicate", 1)
    assert res.returncode == 2 and "frobnicate" in one_error_line(res)
    res = run(cli, *base, "--batch", -1)
    assert res.returncode == 2 and "batch" in one_error_line(res)
    res = run(cli, *base, "--acq", "foo")
    assert res.returncode == 2 and "foo" in one_error_line(res)
    res = run(cli, *base, "--batch-method", "qei")
    assert res.returncode == 2 and "qei" in one_error_line(res)
    res = run(cli, *base, "--spread", "noisy")
    assert res.returncode == 2 and "spread" in one_error_line(res) and "noisy" in one_error_line(res)
    res = run(cli, *base, "--kappa", -1)
    assert res.returncode == 2 and "kappa" in one_error_line(res)
    res = run(cli, *base, "--lengthscale-min", 0)
    assert res.returncode == 2 and "lengthscale_min" in one_error_line(res)
    res = run(cli, *base, "--lengthscale-min", 2000)  # above the upper bound 1e3
    assert res.returncode == 2 and "lengthscale_max" in one_error_line(res)
    res = run(cli, *base, "--prior", "lognormal")
    assert res.returncode == 2 and "lognormal" in one_error_line(res) and "dimscaled" in one_error_line(res)

    no_col = d / "no_col.csv"
    no_col.write_text(OBS.replace("resistivity", "rho"))
    res = run(cli, "bo", "suggest", "--space", space, "--data", no_col, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 2 and "no_col.csv" in line and "resistivity" in line

    nan_param = d / "nan.csv"
    nan_param.write_text(OBS.replace("180,5.0,1", "180,nan,1"))
    res = run(cli, "bo", "suggest", "--space", space, "--data", nan_param, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 1 and "nan.csv:4" in line and "o2" in line

    inf_obj = d / "inf.csv"
    inf_obj.write_text(OBS.replace("6.0\n", "inf\n"))
    res = run(cli, "bo", "suggest", "--space", space, "--data", inf_obj, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 1 and "inf.csv:6" in line and "resistivity" in line

    bad_cat = d / "cat.csv"
    bad_cat.write_text(OBS.replace("Ti,5.1", "Ta,5.1"))
    res = run(cli, "bo", "suggest", "--space", space, "--data", bad_cat, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 1 and "cat.csv:2" in line and "'Ta'" in line

    bad_toml = d / "bad.toml"
    bad_toml.write_text(SPACE.replace("low = 50", "low = 50\nlo = 3"))
    res = run(cli, "bo", "suggest", "--space", bad_toml, "--data", obs, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 1 and "bad.toml" in line and "lo" in line

    broken_toml = d / "broken.toml"
    broken_toml.write_text("[[parameter]\nname = ")
    res = run(cli, "bo", "suggest", "--space", broken_toml, "--data", obs, "-o", out)
    assert res.returncode == 1 and "broken.toml" in one_error_line(res)

    no_obj = d / "no_obj.toml"
    no_obj.write_text(SPACE.split("[[objective]]")[0])
    res = run(cli, "bo", "suggest", "--space", no_obj, "--data", obs, "-o", out)
    assert res.returncode == 1 and "objective" in one_error_line(res)

    res = run(cli, "bo", "suggest", "--space", d / "missing.toml", "-o", out)
    assert res.returncode == 2 and "missing.toml" in one_error_line(res)
    assert not out.exists()


def test_two_objectives_partly_missing_row_is_refused(cli, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(SPACE + '\n[[objective]]\nname = "transmittance"\ndirection = "maximize"\n')
    obs = tmp_path / "obs.csv"
    obs.write_text("power,o2,cycles,target,resistivity,transmittance\n100,1,2,Ti,5,0.8\n120,2,3,Nb,,0.7\n")
    res = run(cli, "bo", "suggest", "--space", space, "--data", obs)
    line = one_error_line(res)
    assert res.returncode == 1 and "obs.csv:3" in line and "missing" in line


def test_pool_bad_input(cli, tmp_path):
    make_pool(tmp_path / "pool.csv")
    out = tmp_path / "trace.json"
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "z", "--initial", 3, "--iterations", 2, "-o",
              out)
    line = one_error_line(res)
    assert res.returncode == 2 and "pool.csv" in line and "'z'" in line
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 0, "--iterations", 2, "-o",
              out)
    assert res.returncode == 2 and "initial" in one_error_line(res)
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 3, "--iterations", -2, "-o",
              out)
    assert res.returncode == 2 and "iterations" in one_error_line(res)
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 100, "--iterations", 2,
              "-o", out)
    assert res.returncode == 2 and "initial" in one_error_line(res)
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 3, "--iterations", 2,
              "--input-warp", "quantile", "-o", out)
    line = one_error_line(res)
    assert res.returncode == 2 and "input warp" in line and "quantile" in line
    res = run(cli, "bo", "pool", tmp_path / "pool.csv", "--objective", "y", "--initial", 3, "--iterations", 2,
              "--prior", "lognormal", "-o", out)
    line = one_error_line(res)
    assert res.returncode == 2 and "prior" in line and "lognormal" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2,3\n1,x,4\n")
    res = run(cli, "bo", "pool", bad, "--objective", "y", "--initial", 1, "--iterations", 1, "-o", out)
    line = one_error_line(res)
    assert res.returncode == 1 and "bad.csv:3" in line and "'b'" in line
    assert not out.exists()

"""`tsunagu campaign init|run|status|record|export|serve|control` as a subprocess.

Truths: the database itself, read with Python's sqlite3 (states, one done experiment per proposal, values equal to the
simulated robot's deterministic reply for the request key), and the error contract: exit code 2 for usage errors
(unknown option/adapter, invalid value), 1 for bad files (spec, existing/foreign/corrupt database), one
'error: ...' line naming the problem.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SPEC = REPO / "examples" / "campaign" / "sputter.toml"
ROBOT = REPO / "examples" / "campaign" / "sputter_robot.py"


def run(cli, *args, timeout=120, input=None):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=timeout, input=input)


def one_error_line(res):
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def small_spec(tmp_path, budget=4, initial=4, batch=2, timeout=None, poll_interval=None):
    """The demo spec with a short budget (same parameters, objective and optimiser)."""
    text = DEMO_SPEC.read_text()
    for key, value in (("budget", budget), ("initial", initial), ("batch", batch), ("timeout", timeout),
                       ("poll_interval", poll_interval)):
        if value is not None:
            text, n = re.subn(rf"(?m)^{key} = [0-9.]+", f"{key} = {value}", text)
            assert n == 1, key
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def robot_adapter(*options):
    return "command:" + " ".join(shlex.quote(str(a)) for a in (sys.executable, ROBOT, *options))


def load_robot():
    spec = importlib.util.spec_from_file_location("sputter_robot", ROBOT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def db_rows(db, sql, args=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "lab.sqlite"


def test_init_run_status_export_end_to_end(cli, tmp_path, db):
    spec = small_spec(tmp_path, budget=4, initial=4)
    res = run(cli, "campaign", "init", spec, "--db", db)
    assert res.returncode == 0, res.stderr
    assert "Nb:TiO2 resistivity" in res.stdout and "budget 4" in res.stdout

    res = run(cli, "campaign", "run", "--db", db, "--adapter", robot_adapter("--seed", "3", "--failure-rate", "0"))
    assert res.returncode == 0, res.stderr
    assert "stopped: budget reached" in res.stdout

    rows = db_rows(db, "SELECT e.id, e.attempt, e.state, p.point_json, o.value FROM experiments e "
                       "JOIN proposals p ON p.id = e.proposal_id LEFT JOIN observations o ON o.experiment_id = e.id "
                       "ORDER BY e.id")
    assert len(rows) == 4 and all(r[2] == "done" for r in rows)
    # The stored value is the robot's reply to exactly this request (key = campaign/experiment/attempt).
    robot = load_robot()
    for eid, attempt, _, point_json, value in rows:
        x = json.loads(point_json)
        req = {"key": f"Nb:TiO2 resistivity/{eid}/{attempt}",
               "parameters": dict(zip(("o2_pressure", "power", "temperature", "nb_fraction"), x))}
        reply = robot.simulate(req, seed=3, failure_rate=0.0)
        assert reply["status"] == "done"
        assert value == pytest.approx(reply["values"]["resistivity"], rel=1e-12)

    res = run(cli, "campaign", "status", "--db", db, "--json", "--plot", tmp_path / "best.svg")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["counts"]["done"] == 4
    ET.parse(tmp_path / "best.svg")
    res = run(cli, "campaign", "status", "--db", db)
    assert res.returncode == 0 and res.stdout.strip(), res.stderr

    out = tmp_path / "results.csv"
    res = run(cli, "campaign", "export", "--db", db, "-o", out)
    assert res.returncode == 0, res.stderr
    with open(out, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4
    assert {"o2_pressure", "power", "temperature", "nb_fraction", "resistivity"} <= set(table[0])

    # resuming a finished campaign does nothing
    res = run(cli, "campaign", "run", "--db", db, "--adapter", robot_adapter("--seed", "3"))
    assert res.returncode == 0 and "budget reached" in res.stdout and "0 started" in res.stdout


def test_bad_spec_is_refused_naming_file_and_key(cli, tmp_path, db):
    spec = tmp_path / "bad.toml"
    spec.write_text(DEMO_SPEC.read_text().replace("[stop]\n", "[stop]\nbudjet = 3\n"))
    res = run(cli, "campaign", "init", spec, "--db", db)
    assert res.returncode == 1
    line = one_error_line(res)
    assert "bad.toml" in line and "stop.budjet" in line
    assert not db.exists()

    spec.write_text(DEMO_SPEC.read_text().replace('direction = "minimize"', 'direction = "lowest"'))
    line = one_error_line(res := run(cli, "campaign", "init", spec, "--db", db))
    assert res.returncode == 1 and "direction" in line and "lowest" in line

    res = run(cli, "campaign", "init", tmp_path / "missing.toml", "--db", db)
    assert res.returncode == 2 and one_error_line(res)


def test_existing_database_is_not_overwritten(cli, tmp_path, db):
    spec = small_spec(tmp_path)
    assert run(cli, "campaign", "init", spec, "--db", db).returncode == 0
    before = db.read_bytes()
    res = run(cli, "campaign", "init", spec, "--db", db)
    assert res.returncode == 1 and "already exists" in one_error_line(res)
    assert db.read_bytes() == before


def test_foreign_corrupt_and_missing_databases_are_refused(cli, tmp_path):
    foreign = tmp_path / "inventory.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE samples(id INTEGER PRIMARY KEY, label TEXT)")
    con.commit()
    con.close()
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(os.urandom(16384))
    for verb in (["status"], ["run", "--adapter", "manual"], ["export", "-o", tmp_path / "x.csv"]):
        res = run(cli, "campaign", verb[0], "--db", foreign, *verb[1:])
        assert res.returncode == 1
        assert "not a tsunagu campaign database" in one_error_line(res)
        res = run(cli, "campaign", verb[0], "--db", corrupt, *verb[1:])
        assert res.returncode == 1
        assert "corrupt" in one_error_line(res) or "not a tsunagu" in one_error_line(res)
    assert db_rows(foreign, "SELECT count(*) FROM samples") == [(0,)]  # untouched
    assert not (tmp_path / "x.csv").exists()
    res = run(cli, "campaign", "status", "--db", tmp_path / "none.sqlite")
    assert res.returncode == 1 and "no such campaign database" in one_error_line(res)


def test_usage_errors_exit_2(cli, tmp_path, db):
    assert run(cli, "campaign", "init", small_spec(tmp_path), "--db", db).returncode == 0
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "ftp://robot")
    assert res.returncode == 2 and "adapter" in one_error_line(res)
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "manual", "--frobnicate")
    assert res.returncode == 2 and "frobnicate" in one_error_line(res)
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "manual", "--max-experiments", "-5")
    assert res.returncode == 2
    res = run(cli, "campaign", "control", "--db", db, "sleep")
    assert res.returncode == 2
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "1", "--value", "abc")
    assert res.returncode == 2 and "not a number" in one_error_line(res)
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "1", "--value", "1", "--failed", "x")
    assert res.returncode == 2 and "either --value" in one_error_line(res)
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "1")
    assert res.returncode == 2
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "99", "--value", "1")
    assert res.returncode == 2 and "no experiment 99" in one_error_line(res)


def test_manual_adapter_and_record(cli, tmp_path, db):
    assert run(cli, "campaign", "init", small_spec(tmp_path, budget=4, initial=2, batch=2), "--db", db).returncode == 0
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "manual")
    assert res.returncode == 0, res.stderr
    assert "waiting for manual results" in res.stdout
    assert res.stdout.count("MANUAL EXPERIMENT") == 2
    running = [r[0] for r in db_rows(db, "SELECT id FROM experiments WHERE state = 'running' ORDER BY id")]
    assert running == [1, 2]

    # the printed record command names this database and works as printed (value filled in)
    line = next(ln for ln in res.stdout.splitlines() if "campaign record" in ln and "--experiment 1 " in ln)
    words = shlex.split(line.strip())
    assert words[:3] == ["tsunagu", "campaign", "record"] and words[words.index("--db") + 1] == str(db)
    words[words.index("--value") + 1] = "2.5e-3"
    res = run(cli, *words[1:])
    assert res.returncode == 0, res.stderr
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "1", "--value", "resistivity=1e-3")
    assert res.returncode == 2 and "already has a result" in one_error_line(res)
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "2", "--failed", "substrate cracked")
    assert res.returncode == 0 and "retry as experiment 3" in res.stdout
    assert db_rows(db, "SELECT value FROM observations WHERE experiment_id = 1") == [(2.5e-3,)]
    assert db_rows(db, "SELECT state, error FROM experiments WHERE id = 2") == [("failed", "substrate cracked")]

    # the next run hands out the retry (experiment 3) and nothing new: proposal 2 is not final yet
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "manual")
    assert res.returncode == 0 and "MANUAL EXPERIMENT 3" in res.stdout
    res = run(cli, "campaign", "record", "--db", db, "--experiment", "3", "--value", "resistivity=4e-3")
    assert res.returncode == 0, res.stderr
    res = run(cli, "campaign", "run", "--db", db, "--adapter", "manual")
    assert res.returncode == 0
    assert db_rows(db, "SELECT count(*) FROM proposals") == [(4,)]  # the model proposed the second batch


def test_control_pause_resume_stop(cli, tmp_path, db):
    assert run(cli, "campaign", "init", small_spec(tmp_path), "--db", db).returncode == 0
    for action, state in (("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        res = run(cli, "campaign", "control", "--db", db, action)
        assert res.returncode == 0, res.stderr
        assert db_rows(db, "SELECT control FROM campaign") == [(state,)]
    res = run(cli, "campaign", "run", "--db", db, "--adapter", robot_adapter())
    assert res.returncode == 0 and "stopped: stopped" in res.stdout and "0 started" in res.stdout
    assert db_rows(db, "SELECT count(*) FROM proposals") == [(0,)]


def _start_and_read_port(args, pattern, timeout=20):
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(pattern, line)
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"no port line from {args[:3]}: {line!r} {proc.stderr.read()}")


def test_serve_answers_and_stops_cleanly_on_sigterm(cli, tmp_path, db):
    assert run(cli, "campaign", "init", small_spec(tmp_path), "--db", db).returncode == 0
    proc, port = _start_and_read_port([cli, "campaign", "serve", "--db", str(db), "--port", "0"],
                                      r"http://127\.0\.0\.1:(\d+)/")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=10) as r:
            doc = json.loads(r.read())
        assert doc["name"] == "Nb:TiO2 resistivity"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_http_adapter_against_the_simulated_robot_controller(cli, tmp_path, db):
    spec = small_spec(tmp_path, budget=4, initial=4, batch=2, timeout=30, poll_interval=0.05)
    assert run(cli, "campaign", "init", spec, "--db", db).returncode == 0
    robot, port = _start_and_read_port([sys.executable, str(ROBOT), "--serve", "--port", "0", "--seed", "2",
                                        "--failure-rate", "0", "--delay", "0.1"], r"http://[\d.]+:(\d+)")
    try:
        res = run(cli, "campaign", "run", "--db", db, "--adapter", f"http://127.0.0.1:{port}")
        assert res.returncode == 0, res.stderr
        assert "budget reached" in res.stdout
        rows = db_rows(db, "SELECT state, adapter, ref FROM experiments ORDER BY id")
        assert len(rows) == 4 and all(r[0] == "done" and r[1] == "http" and r[2].startswith("job-") for r in rows)
    finally:
        robot.terminate()
        robot.wait(timeout=10)

"""THE KILL TEST: `tsunagu campaign run` is killed with SIGKILL at random points while the simulated sputter robot
runs, resumed each time, until the budget is reached; then the database is checked with Python's sqlite3.

Kill points (seeded): at a random time; while an experiment is on the robot; right after a batch of proposals was
committed; during start-up/resume. Truths:
  * `PRAGMA integrity_check` is ok after every kill;
  * every proposal has exactly one done experiment, or is final-failed (all attempts used, or infeasible); attempts
    are 1..k without gaps; no experiment is left proposed/running; the proposal count equals the budget;
  * no result lost or mixed up: every stored value and failure equals the robot's reply to that experiment's key
    (the robot is deterministic in its seed and the request key "<campaign>/<experiment>/<attempt>");
  * resume continues exactly where the crash left off: the killed campaign holds the same proposals, attempts and
    values as the same campaign run without interruption.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SPEC = REPO / "examples" / "campaign" / "sputter.toml"
ROBOT = REPO / "examples" / "campaign" / "sputter_robot.py"
PARAMETERS = ("o2_pressure", "power", "temperature", "nb_fraction")
NAME = "Nb:TiO2 resistivity"

BUDGET = 18
MAX_ATTEMPTS = 3
KILLS = 24
ROBOT_OPTIONS = ("--seed", "11", "--failure-rate", "0.25", "--delay", "0.06", "--slow-rate", "0.1")


def spec_text():
    """The demo spec with a shorter budget; parameters, objective, optimiser and retry policy unchanged."""
    text, n = re.subn(r"(?m)^budget = \d+", f"budget = {BUDGET}", DEMO_SPEC.read_text())
    assert n == 1
    assert re.search(rf"(?m)^max_attempts = {MAX_ATTEMPTS}\b", text)
    return text


def adapter():
    return "command:" + " ".join(shlex.quote(str(a)) for a in (sys.executable, ROBOT, *ROBOT_OPTIONS))


def load_robot():
    spec = importlib.util.spec_from_file_location("sputter_robot_kill", ROBOT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def query(db, sql):
    con = sqlite3.connect(str(db), timeout=20)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def start_run(cli, db):
    return subprocess.Popen([cli, "-q", "campaign", "run", "--db", str(db), "--adapter", adapter()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc, condition, timeout=15.0):
    """Polls `condition()` every few ms until true; False if the process ended or the time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if condition():
                return True
        except sqlite3.OperationalError:  # locked for a moment by the runner
            pass
        time.sleep(0.003)
    return False


def check_invariants(db):
    """What must hold at any instant, including right after a SIGKILL."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "SELECT proposal_id FROM experiments WHERE state = 'done' GROUP BY proposal_id "
                     "HAVING count(*) > 1") == []
    assert query(db, "SELECT proposal_id FROM experiments WHERE state IN ('proposed', 'running') "
                     "GROUP BY proposal_id HAVING count(*) > 1") == []
    # a done experiment always has its value (the result and the state change are one transaction)
    assert query(db, "SELECT e.id FROM experiments e LEFT JOIN observations o ON o.experiment_id = e.id "
                     "WHERE e.state = 'done' AND o.value IS NULL") == []
    assert query(db, "SELECT o.experiment_id FROM observations o JOIN experiments e ON e.id = o.experiment_id "
                     "WHERE e.state <> 'done'") == []
    # proposals are committed with their first experiment
    assert query(db, "SELECT p.id FROM proposals p WHERE NOT EXISTS "
                     "(SELECT 1 FROM experiments e WHERE e.proposal_id = p.id)") == []
    assert query(db, "SELECT count(*) FROM proposals")[0][0] <= BUDGET


def campaign_table(db):
    """Per experiment: (id, proposal, attempt, state, point, value, error) in id order."""
    return query(db, "SELECT e.id, e.proposal_id, e.attempt, e.state, p.point_json, o.value, e.error "
                     "FROM experiments e JOIN proposals p ON p.id = e.proposal_id "
                     "LEFT JOIN observations o ON o.experiment_id = e.id ORDER BY e.id")


def check_final(db, robot):
    check_invariants(db)
    rows = campaign_table(db)
    assert query(db, "SELECT count(*) FROM proposals") == [(BUDGET,)]
    assert not [r for r in rows if r[3] in ("proposed", "running")]
    by_proposal = {}
    for r in rows:
        by_proposal.setdefault(r[1], []).append(r)
    assert len(by_proposal) == BUDGET
    n_done = n_failed = 0
    for pid, exps in by_proposal.items():
        exps.sort(key=lambda r: r[2])
        assert [r[2] for r in exps] == list(range(1, len(exps) + 1)), f"proposal {pid}: attempts {exps}"
        assert len({r[4] for r in exps}) == 1  # every attempt measures the proposal's point
        states = [r[3] for r in exps]
        if "done" in states:
            assert states == ["failed"] * (len(exps) - 1) + ["done"], f"proposal {pid}: {states}"
            n_done += 1
        else:
            assert set(states) == {"failed"}
            assert len(exps) == MAX_ATTEMPTS or exps[-1][6].startswith("infeasible"), f"proposal {pid}: {exps}"
            n_failed += 1
        for eid, _, attempt, state, point_json, value, error in exps:
            request = {"key": f"{NAME}/{eid}/{attempt}", "parameters": dict(zip(PARAMETERS, json.loads(point_json)))}
            seed = int(ROBOT_OPTIONS[1])
            reply = robot.simulate(request, seed=seed, failure_rate=float(ROBOT_OPTIONS[3]))
            if state == "done":
                assert reply["status"] == "done", f"experiment {eid}: stored a value, robot said {reply}"
                assert math.isfinite(value)
                assert value == pytest.approx(reply["values"]["resistivity"], rel=1e-12), f"experiment {eid}"
            else:
                assert reply["status"] in ("failed", "infeasible"), f"experiment {eid}: {error!r} vs {reply}"
                assert reply["error"] in error
    assert n_done + n_failed == BUDGET
    return rows


def test_sigkill_at_random_points_loses_and_duplicates_nothing(cli, tmp_path):
    robot = load_robot()
    spec = tmp_path / "sputter.toml"
    spec.write_text(spec_text())

    # Reference: the same campaign without interruption.
    ref_db = tmp_path / "reference.sqlite"
    assert subprocess.run([cli, "campaign", "init", str(spec), "--db", str(ref_db)]).returncode == 0
    res = subprocess.run([cli, "-q", "campaign", "run", "--db", str(ref_db), "--adapter", adapter()],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    reference = check_final(ref_db, robot)

    db = tmp_path / "killed.sqlite"
    assert subprocess.run([cli, "campaign", "init", str(spec), "--db", str(db)]).returncode == 0
    rng = random.Random(20240607)
    kinds = ["random", "running", "proposals", "startup"] * (KILLS // 4 + 1)
    rng.shuffle(kinds)
    kills = []  # (kind, experiments running at the kill, proposals at the kill)
    finished = False
    for kind in kinds[:KILLS]:
        n_prop = query(db, "SELECT count(*) FROM proposals")[0][0]
        proc = start_run(cli, db)
        if kind == "random":
            time.sleep(rng.uniform(0.02, 0.6))
        elif kind == "startup":
            time.sleep(rng.uniform(0.0, 0.03))
        elif kind == "running":
            wait_for(proc, lambda: query(db, "SELECT count(*) FROM experiments WHERE state = 'running'")[0][0] > 0)
            time.sleep(rng.uniform(0.0, 0.04))
        else:  # right after the commit of a new batch
            wait_for(proc, lambda: query(db, "SELECT count(*) FROM proposals")[0][0] > n_prop)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        if proc.returncode == 0:  # the campaign finished before the kill
            assert "budget reached" in out, out + err
            finished = True
            break
        assert proc.returncode == -signal.SIGKILL, (proc.returncode, err)
        running = query(db, "SELECT count(*) FROM experiments WHERE state = 'running'")[0][0]
        kills.append((kind, running, query(db, "SELECT count(*) FROM proposals")[0][0]))
        check_invariants(db)

    print("kills (kind, running at kill, proposals):", kills)
    assert not finished, f"the campaign finished after only {len(kills)} kills; raise BUDGET"
    assert len(kills) >= 20
    assert sum(1 for k in kills if k[1] > 0) >= 5, kills  # killed while the robot ran
    assert sum(1 for k in kills if k[0] == "proposals") >= 5, kills

    # Resume to the end.
    res = subprocess.run([cli, "campaign", "run", "--db", str(db), "--adapter", adapter()],
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    assert "budget reached" in res.stdout
    rows = check_final(db, robot)

    # Exactly where the crash left off: same proposals, attempts, outcomes and values as the uninterrupted run.
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(r[0], r[1], r[2], r[3]) for r in reference]
    for a, b in zip(rows, reference):
        assert json.loads(a[4]) == json.loads(b[4]), f"experiment {a[0]}: point differs"
        assert a[5] == b[5]
    # the crashes are visible in the event log, not in the results
    events = [m for (m,) in query(db, "SELECT message FROM events")]
    assert any("re-queued" in m for m in events)

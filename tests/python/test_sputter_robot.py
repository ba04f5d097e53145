"""The demo instrument examples/campaign/sputter_robot.py: reproducible replies, configured failure/infeasible/slow
rates, a known interior optimum, and both modes (command: JSON on stdin/stdout; HTTP controller with idempotent
POST). The model is checked against its own documented formula only where the docstring states a fact (optimum
value, peel-off rule, instrument limits); everything else is statistics of the replies."""
from __future__ import annotations

import importlib.util
import itertools
import json
import math
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "campaign" / "sputter_robot.py"

# The search box of examples/campaign/sputter.toml.
BOX = {"o2_pressure": (0.01, 1.0), "power": (50.0, 300.0), "temperature": (25.0, 600.0), "nb_fraction": (0.0, 0.2)}


@pytest.fixture(scope="module")
def robot():
    spec = importlib.util.spec_from_file_location("sputter_robot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def request(key, o2=0.3, power=120.0, temperature=400.0, nb=0.05):
    return {"campaign": "demo", "experiment": 1, "attempt": 1, "key": key,
            "parameters": {"o2_pressure": o2, "power": power, "temperature": temperature, "nb_fraction": nb},
            "objectives": ["resistivity"]}


def run_command(req, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], input=json.dumps(req), capture_output=True,
                          text=True, timeout=30)


def test_command_mode_reply_is_reproducible_for_a_key_and_seed():
    a = run_command(request("demo/1/1"), "--seed", "7", "--failure-rate", "0")
    b = run_command(request("demo/1/1"), "--seed", "7", "--failure-rate", "0")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    reply = json.loads(a.stdout)
    assert reply["status"] == "done"
    other_key = json.loads(run_command(request("demo/1/2"), "--seed", "7", "--failure-rate", "0").stdout)
    other_seed = json.loads(run_command(request("demo/1/1"), "--seed", "8", "--failure-rate", "0").stdout)
    rho = reply["values"]["resistivity"]
    assert other_key["values"]["resistivity"] != rho
    assert other_seed["values"]["resistivity"] != rho


def test_noise_is_log_normal_with_about_5_percent_spread(robot):
    truth = robot.optimum()
    p = truth["parameters"]
    req = request("", p["o2_pressure"], p["power"], p["temperature"], p["nb_fraction"])
    logs = []
    for i in range(2000):
        req["key"] = f"noise/{i}"
        reply = robot.simulate(req, seed=1, failure_rate=0.0)
        logs.append(math.log(reply["values"]["resistivity"] / truth["resistivity"]))
    assert abs(statistics.fmean(logs)) < 0.005           # 5 standard errors of the mean (0.05 / sqrt(2000))
    assert 0.046 < statistics.stdev(logs) < 0.054


@pytest.mark.parametrize("rate", [0.03, 0.1])
def test_failure_rate_is_roughly_as_configured(robot, rate):
    n = 4000
    failed = 0
    for i in range(n):
        reply = robot.simulate(request(f"fail/{i}"), seed=3, failure_rate=rate)
        if reply["status"] == "failed":
            assert reply["error"] == "target arcing"
            failed += 1
        else:
            assert reply["status"] == "done"
    sd = math.sqrt(rate * (1 - rate) / n)
    assert abs(failed / n - rate) < 4 * sd


def test_slow_runs_take_four_times_the_delay_at_the_configured_rate(robot):
    durations = [robot.run_duration(request(f"slow/{i}"), seed=0, delay=1.0, slow_rate=0.2) for i in range(4000)]
    slow = sum(d > 2.2 for d in durations) / len(durations)  # 4x with +-20 % jitter vs 1x: well separated
    assert abs(slow - 0.2) < 4 * math.sqrt(0.2 * 0.8 / 4000)
    assert robot.run_duration(request("x"), seed=0, delay=0.0, slow_rate=1.0) == 0.0


def test_high_power_and_high_temperature_peel_the_film_off(robot):
    for power, temperature in itertools.product([50, 150, 250, 300], [25, 300, 500, 550, 600]):
        reply = robot.simulate(request(f"peel/{power}/{temperature}", power=power, temperature=temperature),
                               failure_rate=0.0)
        if power * temperature > 1.5e5:  # the documented rule
            assert reply == {"status": "infeasible", "error": "film peeled off"}
        else:
            assert reply["status"] == "done"
    outside = robot.simulate(request("range", power=500.0), failure_rate=0.0)
    assert outside["status"] == "infeasible" and "power" in outside["error"]


def test_optimum_is_interior_and_below_every_point_of_a_coarse_grid(robot):
    truth = robot.optimum()
    p = truth["parameters"]
    assert truth["resistivity"] == pytest.approx(3.0e-4, rel=1e-12)
    assert robot.resistivity(**p) == pytest.approx(truth["resistivity"], rel=1e-12)
    for name, (lo, hi) in BOX.items():  # at least 10 % of the range (log range for O2) away from each bound
        if name == "o2_pressure":
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(p[name])
        else:
            v = p[name]
        assert lo + 0.1 * (hi - lo) < v < hi - 0.1 * (hi - lo), name
    axes = [
        [10 ** (-2 + 2 * i / 8) for i in range(9)],
        [50 + 250 * i / 8 for i in range(9)],
        [25 + 575 * i / 8 for i in range(9)],
        [0.2 * i / 8 for i in range(9)],
    ]
    grid_min = min(robot.resistivity(*x) for x in itertools.product(*axes))
    assert grid_min > truth["resistivity"] * 1.01
    for name in p:  # a strict local minimum along every axis
        for f in (0.97, 1.03):
            q = dict(p, **{name: p[name] * f})
            assert robot.resistivity(**q) > truth["resistivity"]


def test_truth_flag_prints_the_optimum(robot):
    out = subprocess.run([sys.executable, str(SCRIPT), "--truth"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["resistivity"] == pytest.approx(3.0e-4)
    assert doc["parameters"] == pytest.approx(robot.optimum()["parameters"])


def test_bad_request_exits_2_naming_the_parameter():
    req = request("bad")
    del req["parameters"]["power"]
    out = run_command(req)
    assert out.returncode == 2
    assert "power" in out.stderr
    assert out.stdout == ""
    out = subprocess.run([sys.executable, str(SCRIPT)], input="not json", capture_output=True, text=True, timeout=30)
    assert out.returncode == 2


@pytest.fixture()
def server():
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--serve", "--port", "0", "--seed", "7", "--delay", "0.3",
                             "--slow-rate", "0", "--failure-rate", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://" in line, line
        yield line.split("listening on ")[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def http(method, url, doc=None, raw=None):
    data = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_http_mode_round_trip_with_idempotent_post(server):
    status, first = http("POST", server + "/experiments", request("demo/1/1"))
    assert status == 202 and first["status"] == "running"
    _, again = http("POST", server + "/experiments", request("demo/1/1"))
    assert again["id"] == first["id"]  # the same key is the same job
    _, other = http("POST", server + "/experiments", request("demo/1/2"))
    assert other["id"] != first["id"]

    status, polled = http("GET", f"{server}/experiments/{first['id']}")
    assert status == 200 and polled["status"] == "running"  # the run takes ~0.3 s
    deadline = time.monotonic() + 15
    while polled["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        _, polled = http("GET", f"{server}/experiments/{first['id']}")
    assert polled["status"] == "done"
    # The same seed and key give the same measurement in command mode.
    command = json.loads(run_command(request("demo/1/1"), "--seed", "7", "--failure-rate", "0").stdout)
    assert polled["values"] == command["values"]

    _, listing = http("GET", server + "/experiments")
    assert [j["key"] for j in listing] == ["demo/1/1", "demo/1/2"]
    status, _ = http("GET", server + "/experiments/job-99")
    assert status == 404
    status, bad = http("POST", server + "/experiments", raw=b"{not json")
    assert status == 400 and bad["status"] == "failed"

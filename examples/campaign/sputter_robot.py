#!/usr/bin/env python3
"""Simulated sputter-deposition robot: reactive RF sputtering of Nb-doped TiO2 (anatase) films.

The demo instrument for ``tsunagu campaign``. It deposits a film at the requested conditions, "measures" its
resistivity and answers in the instrument-adapter protocol (include/tsunagu/campaign/adapter.hpp). Python standard
library only.

Modes
-----
``sputter_robot.py [options]``                 command mode: one request (JSON) on stdin, one reply on stdout
                                               (``--adapter command:'python3 sputter_robot.py --seed 1'``)
``sputter_robot.py --serve --port P [options]`` HTTP controller (``--adapter http://127.0.0.1:P``):
    POST /experiments       request -> 202 {"status": "running", "id": "job-N"}; a repeated POST with the same
                            "key" returns the same job (idempotent after an orchestrator crash)
    GET  /experiments/<id>  {"status": "running", "id": ...} until the simulated run time has passed, then the
                            reply (done / failed / infeasible); 404 for an unknown id
    GET  /experiments       all jobs (id, key, status) — for people looking at the robot
``sputter_robot.py --truth``                   prints the known optimum (JSON) and exits

Options: ``--seed S`` (default 0), ``--noise SIGMA`` (log-normal measurement noise, default 0.05 = ~5 %),
``--failure-rate F`` (probability of a failed deposition, default 0.03), ``--delay SECONDS`` (typical run time,
default 0), ``--slow-rate F`` (probability that a run takes 4x longer, default 0.05), ``--host`` (default 127.0.0.1).

Request: {"key": "...", "parameters": {"o2_pressure": Pa, "power": W, "temperature": degC, "nb_fraction": 0..1},
"objectives": ["resistivity"], ...}. Replies: {"status": "done", "values": {"resistivity": ohm cm}},
{"status": "failed", "error": "target arcing"}, {"status": "infeasible", "error": "film peeled off"}. A request
that is not a JSON object or lacks a parameter is a programming error: exit code 2 (command) or HTTP 400.

Randomness
----------
Every random draw comes from ``random.Random("<seed>|<key>|<purpose>")`` (string seeds are hashed with SHA-512, so
the same seed and key give the same reply on every machine and in both modes). A retried attempt has a new key and
therefore new noise. Without a "key" the canonical JSON of the parameters serves as the key.

Model
-----
With p = o2_pressure (Pa), P = power (W), T = temperature (degC), x = nb_fraction, the noise-free resistivity is

    log10 rho = log10 rho_opt + g(u) + h(P) + c(T) + n(x) - [h + c + n at their minima]

  * oxygen, u = log10(p / p_opt(P)) with p_opt(P) = 0.25 Pa * (P / 130 W)^0.6 — more power sputters more metal and
    needs more oxygen to oxidise it (the one interaction of the model):
        g(u) = u^2 * (0.6 + 2.4 * s(u)),  s(u) = (1 + tanh(3u)) / 2
    too little O2 gives sub-stoichiometric, partly amorphous TiO2-x with Magneli-type defects (a gentle rise,
    ~0.6 decade per decade of pressure^2), too much O2 fills the oxygen vacancies and compensates the Nb donors,
    so the film turns insulating (a steep rise, ~3 decades per decade^2);
  * power: h(P) = 0.3 * log2(P / 130 W)^2 — low power gives slow, porous growth, high power energetic
    bombardment and defects;
  * temperature: c(T) = 2.0 * sigma((320 - T) / 45) + 0.8 * sigma((T - 560) / 35), sigma = logistic — films
    deposited cold are amorphous (about two decades worse); anatase crystallises around 300-350 degC; above
    ~550 degC rutile forms and Nb segregates;
  * niobium: n(x) = log10((1 + (x / 0.062)^2) / (x + 0.004)) + 0.4 * sigma((x - 0.13) / 0.015) — the carrier
    density grows with x (0.004 stands for oxygen-vacancy donors of the undoped film) while ionised-impurity
    scattering lowers the mobility as 1 / (1 + (x / 0.062)^2), which puts the optimum near x = 0.06; beyond the
    solubility limit (~0.13) Nb clusters add another 0.4 decade.

rho_opt = 3.0e-4 ohm cm is the global minimum, at P = 130 W, p = 0.25 Pa, T ~ 470 degC, x ~ 0.057 (``--truth``
prints the exact point; T and x are found by golden-section minimisation of c and n): inside the box of
examples/campaign/sputter.toml, not at a corner. Over that box log10 rho spans about 5.5 decades. The measured value is rho * exp(noise * z), z ~ N(0, 1).

Infeasible conditions: P * T > 1.5e5 W degC (e.g. 300 W at 500 degC) — thermal-expansion stress makes the film
peel off; conditions outside the instrument's range (0.005-5 Pa, 20-400 W, 20-800 degC, 0-0.3) are infeasible too.
Failed depositions ("target arcing") happen at random with probability --failure-rate, independent of the
conditions.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARAMETERS = ("o2_pressure", "power", "temperature", "nb_fraction")
OBJECTIVE = "resistivity"
RHO_OPT = 3.0e-4          # ohm cm, the noise-free global minimum
# Instrument limits (outside: infeasible); wider than the demo campaign's search box.
LIMITS = {"o2_pressure": (0.005, 5.0), "power": (20.0, 400.0), "temperature": (20.0, 800.0),
          "nb_fraction": (0.0, 0.3)}
UNITS = {"o2_pressure": "Pa", "power": "W", "temperature": "degC", "nb_fraction": ""}
PEEL_LIMIT = 1.5e5        # W degC: power * temperature above this peels the film off
SLOW_FACTOR = 4.0         # a slow run takes this many times the typical delay


def _sigmoid(t: float) -> float:
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _oxygen_optimum(power: float) -> float:
    """p_opt(P) in Pa."""
    return 0.25 * (power / 130.0) ** 0.6


def _g_oxygen(o2_pressure: float, power: float) -> float:
    u = math.log10(o2_pressure / _oxygen_optimum(power))
    return u * u * (0.6 + 2.4 * 0.5 * (1.0 + math.tanh(3.0 * u)))


def _h_power(power: float) -> float:
    return 0.3 * math.log2(power / 130.0) ** 2


def _c_temperature(temperature: float) -> float:
    return 2.0 * _sigmoid((320.0 - temperature) / 45.0) + 0.8 * _sigmoid((temperature - 560.0) / 35.0)


def _n_niobium(nb_fraction: float) -> float:
    x = nb_fraction
    return math.log10((1.0 + (x / 0.062) ** 2) / (x + 0.004)) + 0.4 * _sigmoid((x - 0.13) / 0.015)


def _golden_min(f, lo: float, hi: float, tol: float = 1e-10) -> float:
    """Minimiser of a unimodal f on [lo, hi] (golden-section search), after a coarse scan picks the bracket."""
    n = 400
    xs = [lo + (hi - lo) * i / n for i in range(n + 1)]
    i = min(range(n + 1), key=lambda k: f(xs[k]))
    a, b = xs[max(i - 1, 0)], xs[min(i + 1, n)]
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - r * (b - a), a + r * (b - a)
    while b - a > tol * max(1.0, abs(a) + abs(b)):
        if f(c) < f(d):
            b, d = d, c
            c = b - r * (b - a)
        else:
            a, c = c, d
            d = a + r * (b - a)
    return 0.5 * (a + b)


def _find_optimum() -> dict:
    # g >= 0 with g = 0 at p = p_opt(P), so the minimum is separable: minimise h, c, n one at a time
    # (h = 0 exactly at 130 W).
    power = 130.0
    temperature = _golden_min(_c_temperature, 25.0, 600.0)
    nb_fraction = _golden_min(_n_niobium, 0.0, 0.2)
    return {"o2_pressure": _oxygen_optimum(power), "power": power, "temperature": temperature,
            "nb_fraction": nb_fraction}


_OPTIMUM = _find_optimum()
_OFFSET = (_h_power(_OPTIMUM["power"]) + _c_temperature(_OPTIMUM["temperature"])
           + _n_niobium(_OPTIMUM["nb_fraction"]))


def log10_resistivity(o2_pressure: float, power: float, temperature: float, nb_fraction: float) -> float:
    """Noise-free log10 of the film resistivity (ohm cm); see the module docstring for the model."""
    return (math.log10(RHO_OPT) + _g_oxygen(o2_pressure, power) + _h_power(power) + _c_temperature(temperature)
            + _n_niobium(nb_fraction) - _OFFSET)


def resistivity(o2_pressure: float, power: float, temperature: float, nb_fraction: float) -> float:
    """Noise-free film resistivity in ohm cm."""
    return 10.0 ** log10_resistivity(o2_pressure, power, temperature, nb_fraction)


def optimum() -> dict:
    """The known global optimum: {"parameters": {...}, "resistivity": ohm cm (noise-free)}."""
    return {"parameters": dict(_OPTIMUM), "resistivity": resistivity(**_OPTIMUM), "unit": "ohm cm"}


class BadRequest(ValueError):
    """The request is not what the protocol says (exit code 2 / HTTP 400)."""


def request_key(request: dict) -> str:
    key = request.get("key")
    if isinstance(key, str) and key:
        return key
    return json.dumps(request.get("parameters"), sort_keys=True)


def _conditions(request) -> dict:
    if not isinstance(request, dict):
        raise BadRequest("request must be a JSON object")
    params = request.get("parameters")
    if not isinstance(params, dict):
        raise BadRequest("request has no 'parameters' object")
    values = {}
    for name in PARAMETERS:
        if name not in params:
            raise BadRequest(f"request lacks parameter '{name}'")
        v = params[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise BadRequest(f"parameter '{name}' must be a finite number (got {v!r})")
        values[name] = float(v)
    return values


def _rng(seed: int, key: str, purpose: str) -> random.Random:
    return random.Random(f"{seed}|{key}|{purpose}")


def simulate(request, seed: int = 0, failure_rate: float = 0.03, noise: float = 0.05) -> dict:
    """The reply document for one request (deterministic in seed and the request key). Raises BadRequest."""
    cond = _conditions(request)
    key = request_key(request)
    for name, (lo, hi) in LIMITS.items():
        if not lo <= cond[name] <= hi:
            unit = f" {UNITS[name]}" if UNITS[name] else ""
            return {"status": "infeasible",
                    "error": f"{name} = {cond[name]:g}{unit} outside the instrument range {lo:g}-{hi:g}{unit}"}
    if cond["power"] * cond["temperature"] > PEEL_LIMIT:
        return {"status": "infeasible", "error": "film peeled off"}
    if _rng(seed, key, "failure").random() < failure_rate:
        return {"status": "failed", "error": "target arcing"}
    rho = resistivity(**cond) * math.exp(noise * _rng(seed, key, "noise").gauss(0.0, 1.0))
    return {"status": "done", "values": {OBJECTIVE: rho}}


def run_duration(request, seed: int, delay: float, slow_rate: float) -> float:
    """Seconds this run takes: the typical delay with +-20 % jitter, SLOW_FACTOR times longer for a slow run."""
    if delay <= 0:
        return 0.0
    r = _rng(seed, request_key(request), "duration")
    d = delay * math.exp(0.2 * r.gauss(0.0, 1.0))
    if r.random() < slow_rate:
        d *= SLOW_FACTOR
    return d


# ----------------------------------------------------------------------------------------------------------------
# HTTP controller


class Controller:
    """Jobs of the HTTP mode: one per request key, each revealing its reply once its run time has passed."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.jobs = {}     # id -> {"key", "reply", "ready_at"}
        self.by_key = {}   # key -> id

    def submit(self, request) -> str:
        reply = simulate(request, self.args.seed, self.args.failure_rate, self.args.noise)  # may raise BadRequest
        key = request_key(request)
        with self.lock:
            job = self.by_key.get(key)
            if job is None:
                job = f"job-{len(self.jobs) + 1}"
                duration = run_duration(request, self.args.seed, self.args.delay, self.args.slow_rate)
                self.jobs[job] = {"key": key, "reply": reply, "ready_at": time.monotonic() + duration}
                self.by_key[key] = job
            return job

    def status(self, job: str):
        with self.lock:
            j = self.jobs.get(job)
        if j is None:
            return None
        if time.monotonic() < j["ready_at"]:
            return {"status": "running", "id": job}
        return dict(j["reply"], id=job)

    def listing(self):
        with self.lock:
            ids = list(self.jobs)
        return [{"id": i, "key": self.jobs[i]["key"], "status": self.status(i)["status"]} for i in ids]


def make_handler(controller: Controller, verbose: bool):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, code: int, doc) -> None:
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if self.path.rstrip("/") != "/experiments":
                return self._send(404, {"status": "failed", "error": f"no route POST {self.path}"})
            try:
                request = json.loads(raw.decode("utf-8"))
                job = controller.submit(request)
            except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError and BadRequest are ValueErrors
                return self._send(400, {"status": "failed", "error": f"bad request: {e}"})
            self._send(202, {"status": "running", "id": job})

        def do_GET(self):  # noqa: N802
            path = self.path.rstrip("/")
            if path == "/experiments":
                return self._send(200, controller.listing())
            prefix = "/experiments/"
            if path.startswith(prefix):
                from urllib.parse import unquote
                doc = controller.status(unquote(path[len(prefix):]))
                if doc is not None:
                    return self._send(200, doc)
            self._send(404, {"status": "failed", "error": f"no such job: {self.path}"})

        def log_message(self, fmt, *args):
            if verbose:
                sys.stderr.write("sputter_robot: " + fmt % args + "\n")

    return Handler


def serve(args) -> int:
    server = ThreadingHTTPServer((args.host, args.port), make_handler(Controller(args), args.verbose))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"sputter_robot listening on http://{host}:{port}", flush=True)  # tests read the port from this line
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


# ----------------------------------------------------------------------------------------------------------------


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="random seed (with the request key) (default 0)")
    ap.add_argument("--noise", type=float, default=0.05, help="log-normal measurement noise sigma (default 0.05)")
    ap.add_argument("--failure-rate", type=float, default=0.03,
                    help="probability of a failed deposition, 0..1 (default 0.03)")
    ap.add_argument("--delay", type=float, default=0.0, help="typical run time in seconds (default 0)")
    ap.add_argument("--slow-rate", type=float, default=0.05,
                    help=f"probability that a run takes {SLOW_FACTOR:g}x longer (default 0.05)")
    ap.add_argument("--serve", action="store_true", help="run as an HTTP controller instead of command mode")
    ap.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8000, help="HTTP mode: port (0 = any free port; default 8000)")
    ap.add_argument("--verbose", action="store_true", help="HTTP mode: log requests on stderr")
    ap.add_argument("--truth", action="store_true", help="print the known optimum as JSON and exit")
    args = ap.parse_args(argv)
    for name in ("failure_rate", "slow_rate"):
        v = getattr(args, name)
        if not 0.0 <= v <= 1.0:
            ap.error(f"--{name.replace('_', '-')} must be in [0, 1] (got {v})")
    if args.noise < 0 or args.delay < 0:
        ap.error("--noise and --delay must be >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.truth:
        print(json.dumps(optimum(), indent=2))
        return 0
    if args.serve:
        return serve(args)
    try:
        request = json.loads(sys.stdin.read())
        reply = simulate(request, args.seed, args.failure_rate, args.noise)
    except ValueError as e:
        print(f"sputter_robot: bad request: {e}", file=sys.stderr)
        return 2
    time.sleep(run_duration(request, args.seed, args.delay, args.slow_rate))
    try:
        print(json.dumps(reply), flush=True)
    except BrokenPipeError:  # the orchestrator died while we ran (it re-queues the experiment on resume)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

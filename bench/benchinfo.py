"""What every benchmark report records about the machine, the build and the commit (shared by bench/*/run_*.py)."""
from __future__ import annotations

import datetime as _dt
import json
import shlex
import time
import os
import platform
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _now(ts=None):
    t = _dt.datetime.now() if ts is None else _dt.datetime.fromtimestamp(ts)
    return t.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def machine() -> dict:
    """CPU model, core count, kernel and the current date."""
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "date": _now()}


def build(binary, keys=("CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_CXX_FLAGS", "CMAKE_CXX_FLAGS_RELEASE",
                        "TSUNAGU_NATIVE")) -> dict:
    """Selected CMakeCache entries of the build tree holding `binary` (<build>/<subdir>/binary) and the compiler."""
    cache = Path(binary).resolve().parents[1] / "CMakeCache.txt"
    out = {}
    if cache.exists():
        pattern = re.compile(r"(" + "|".join(map(re.escape, keys)) + r"):[A-Z]+=(.*)")
        for line in cache.read_text().splitlines():
            m = pattern.match(line)
            if m:
                out[m.group(1)] = m.group(2)
    if "CMAKE_CXX_COMPILER" in out:
        try:
            v = subprocess.run([out["CMAKE_CXX_COMPILER"], "--version"], capture_output=True, text=True)
            out["compiler"] = v.stdout.splitlines()[0]
        except Exception:
            pass
    return out


def commit(paths=("src", "include")) -> str:
    """Short HEAD hash, flagged when `paths` have uncommitted changes (the numbers would not be reproducible)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", *paths],
                               capture_output=True, text=True, check=True).stdout.strip()
        where = ", ".join(f"{p}/" for p in paths)
        return head + (f" with uncommitted changes under {where}" if dirty else "")
    except Exception:
        return "unknown"


def binary_mtime(binary) -> str:
    return _now(Path(binary).stat().st_mtime)


# ---- helpers shared by the bench drivers (paths in reports, running programs, Google Benchmark JSON, formats)

def rel(p):
    """A path relative to the repository root when it lies in or next to it (../shared/...), else as given."""
    q = Path(p).resolve()
    if q.is_relative_to(REPO):
        return str(q.relative_to(REPO))
    if q.is_relative_to(REPO.parent):
        return os.path.relpath(q, REPO)
    return str(p)


def rel_arg(a):
    """rel() for a command-line word: a path, or --flag=path."""
    a = str(a)
    if a.startswith("/"):
        return rel(a)
    if a.startswith("--") and "=/" in a:
        k, v = a.split("=", 1)
        return f"{k}={rel(v)}"
    return a


def run(cmd, env, timeout=1800):
    """Runs cmd; (stdout, wall seconds); RuntimeError with the output tails on a non-zero exit."""
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(map(str, cmd))} exited with {p.returncode}:\n{p.stdout[-3000:]}\n"
                           f"{p.stderr[-3000:]}")
    return p.stdout, wall


def gbench(binary, flt, args, env):
    """Runs a Google Benchmark program with a filter; {name: benchmark dict with 'seconds', 'cores_busy'}, context."""
    cmd = [str(binary), f"--benchmark_filter={flt}", "--benchmark_format=json"] + args
    out, wall = run(cmd, env)
    j = json.loads(out)
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    res = {}
    for b in j["benchmarks"]:
        b["seconds"] = b["real_time"] * scale[b["time_unit"]]
        b["cores_busy"] = b["cpu_time"] / b["real_time"] if b["real_time"] > 0 else float("nan")
        res[base_name(b.get("run_name", b["name"]))] = b
    if not res:
        raise RuntimeError(f"no benchmark matched {flt!r}")
    return res, j["context"], wall, cmd


def base_name(name):
    """BM_Describe/physchem/threads:1/iterations:1/process_time/real_time -> BM_Describe/physchem/threads:1."""
    return "/".join(p for p in name.split("/")
                    if not p.startswith(("iterations:", "real_time", "process_time", "min_time:")))


def fmt_t(s):
    if s is None:
        return "–"
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def fmt_rate(r):
    return "–" if r is None else f"{r:,.0f}/s"


def fmt_r(v):
    if v is None:
        return "–"
    return f"{v:,.0f}×" if v >= 100 else f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"


def dpkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True,
                              check=True).stdout.strip() or "?"
    except Exception:
        return "?"

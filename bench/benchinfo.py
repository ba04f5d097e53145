"""What every benchmark report records about the machine, the build and the commit (shared by bench/*/run_*.py)."""
from __future__ import annotations

import datetime as _dt
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

#!/usr/bin/env python3
"""Set up and run xlrate from a fresh clone, on Linux, macOS or Windows: only Python needed.

    python3 scripts/run.py demo     # builds the demo workbook (xlrate-demo.xlsx)
    python3 scripts/run.py test     # lint, type-check and the whole test suite
    python3 scripts/run.py test --fast   # lint and the fast lane (no `slow` tests): < 30 s
    python3 scripts/run.py bench    # performance table
    python3 scripts/run.py xlrate ARGS...   # any xlrate command

The first run creates .venv/ in the repository and installs xlrate into it (with the test
tools for `test` and `bench`); later runs reinstall only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"{digest}:{extras}"


def ensure_env(dev: bool) -> None:
    """Create the virtual environment and install xlrate when missing or out of date."""
    if sys.version_info < (3, 10):  # noqa: UP036 - this script runs on any python3
        sys.exit(f"xlrate needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    extras = "dev" if dev else ""
    stamp_file = VENV / ".xlrate-installed"
    if PY.exists() and stamp_file.exists():
        have = stamp_file.read_text().strip()
        if have == _stamp(extras) or (not dev and have == _stamp("dev")):
            return
    if not PY.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        _create_venv()
    target = ".[dev]" if dev else "."
    print(
        f"Installing xlrate{'[dev]' if dev else ''} and its dependencies (first run only) ...",
        flush=True,
    )
    subprocess.check_call(
        [str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], cwd=ROOT
    )
    subprocess.check_call([str(PY), "-m", "pip", "install", "--quiet", "-e", target], cwd=ROOT)
    stamp_file.write_text(_stamp(extras))


def _create_venv() -> None:
    """``python3 -m venv``; Debian and Ubuntu ship it apart (python3-venv): install it as
    root, or say what to install."""
    try:
        venv.create(VENV, with_pip=True)
        return
    except subprocess.CalledProcessError:  # ensurepip is missing
        shutil.rmtree(VENV, ignore_errors=True)
    package = f"python3.{sys.version_info.minor}-venv"
    if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
        print(f"Installing {package} (Python's venv module) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.check_call(["apt-get", "update", "-qq"], env=env)
        subprocess.check_call(["apt-get", "install", "-y", "-qq", package], env=env)
        venv.create(VENV, with_pip=True)
        return
    sys.exit(
        f"Python's venv module cannot install pip here: install {package} (Debian/Ubuntu: "
        f"sudo apt-get install {package}) and run again"
    )


def ensure_libreoffice() -> None:
    """The workbook tests recalculate in real LibreOffice; install it on Debian/Ubuntu as root."""
    if shutil.which("soffice") or shutil.which("libreoffice"):
        return
    if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
        print(
            "Installing LibreOffice (headless) for the workbook recalculation tests ...", flush=True
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.check_call(["apt-get", "update", "-qq"], env=env)
        subprocess.check_call(
            [
                "apt-get",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "libreoffice-calc-nogui",
                "poppler-utils",
            ],
            env=env,
        )
        return
    print(
        "LibreOffice is not installed: the recalculation tests will fail. Install it "
        "(https://www.libreoffice.org, or your package manager) and run again.",
        file=sys.stderr,
    )


def ensure_pyodide() -> None:
    """The Lite tests run xlrate in real Pyodide under Node: the npm package and xlwings' wheel."""
    lite = ROOT / "tests" / "lite"
    if not (shutil.which("node") and shutil.which("npm")):
        if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
            print("Installing Node.js for the Pyodide (xlwings Lite) tests ...", flush=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.check_call(["apt-get", "update", "-qq"], env=env)
            subprocess.check_call(
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nodejs", "npm"],
                env=env,
            )
        else:
            print(
                "Node.js is not installed: the Pyodide (xlwings Lite) tests will be skipped "
                "(in CI they fail). Install Node.js 18+ and run again.",
                file=sys.stderr,
            )
            return
    stamp = lite / "node_modules" / ".xlrate-lock"
    lock = (lite / "package-lock.json").read_bytes()
    if not stamp.exists() or stamp.read_bytes() != lock:
        print("Installing the pyodide npm package for the Lite tests ...", flush=True)
        subprocess.check_call(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=lite)
        stamp.write_bytes(lock)
    wheels = lite / "wheels"
    version = subprocess.check_output(
        [str(PY), "-c", "import importlib.metadata as m; print(m.version('xlwings'))"], text=True
    ).strip()
    if not list(wheels.glob(f"xlwings-{version}-py3-none-any.whl")):
        print(f"Fetching xlwings {version}'s pure-Python wheel for the Lite tests ...", flush=True)
        subprocess.check_call(
            [
                str(PY),
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--platform",
                "any",
                "--python-version",
                "3.12",
                "--implementation",
                "py",
                f"xlwings=={version}",
                "-d",
                str(wheels),
            ]
        )


def run(*cmd: str) -> int:
    return subprocess.call(list(cmd), cwd=ROOT)


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "demo"
    rest = argv[1:]
    if task == "demo":
        ensure_env(dev=False)
        return run(str(PY), "-m", "xlrate", "demo", *rest)
    if task == "test":
        fast = "--fast" in rest
        rest = [arg for arg in rest if arg != "--fast"]
        ensure_env(dev=True)
        steps = [
            [str(PY), "-m", "ruff", "check", "xlrate", "tests", "scripts"],
            [str(PY), "-m", "ruff", "format", "--check", "xlrate", "tests", "scripts"],
        ]
        if fast:  # the fast lane: no type-check, no LibreOffice, no test marked slow
            rest = ["-m", "not slow", *rest]
        else:
            ensure_libreoffice()
            ensure_pyodide()
            steps.append([str(PY), "-m", "mypy"])
        for step in steps:
            code = run(*step)
            if code:
                return code
        return run(str(PY), "-m", "pytest", "-q", "-n", "2", *rest)
    if task == "bench":
        ensure_env(dev=True)
        return run(str(PY), str(ROOT / "scripts" / "bench.py"), *rest)
    if task == "xlrate":
        ensure_env(dev=False)
        return run(str(PY), "-m", "xlrate", *rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

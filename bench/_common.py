"""Helpers shared by the benchmark scripts in bench/ and by the calibration study.

A script run as ``python bench/bench_x.py`` has bench/ on ``sys.path``, so it
imports this module as ``import _common``; the calibration study
(``python -m studies.calibration`` from the repository root) imports it as
``bench._common``. Nothing here imports ``bayes_gmm_mi`` or JAX at import time.

- :func:`log`: a progress line on stderr with the elapsed time of the run
  (stdout stays free for the tables);
- :func:`write_json`: write a results file atomically (``.json.tmp`` + rename),
  so an interrupted run leaves the previous complete file;
- :func:`jsonable`, :func:`jsonable_full`: numpy values and NaN to JSON;
- :func:`machine_info`, :func:`loadavg`, :func:`version`: the record of the
  machine, the git commit and the package versions of a run;
- :func:`fresh_env`: the environment of a cold-start subprocess (no persistent
  JAX compilation cache);
- :func:`ensure_gmmmi_venv`, :func:`gmmmi_python`, :func:`gmmmi_versions` and
  the runner scripts ``GMMMI_*_RUNNER``: GMM-MI 0.8.2 in its own virtual
  environment, ``bench/.venv-gmmmi``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

GMMMI_VENV = BENCH_DIR / ".venv-gmmmi"
GMMMI_STAMP = GMMMI_VENV / ".installed-gmm-mi-0.8.2"
GMMMI_REQUIREMENTS = ["gmm-mi==0.8.2", "scikit-learn<1.7"]
#: GMM-MI's ``fit_estimate`` on scalar x and y (``python RUNNER DATA.npz OUT.json``).
GMMMI_RUNNER = BENCH_DIR / "_gmmmi_runner.py"
#: GMM-MI's categorical estimator (``... DATA.npz OUT.json N_BOOTSTRAP``).
GMMMI_CATEGORICAL_RUNNER = BENCH_DIR / "_gmmmi_categorical_runner.py"
#: GMM-MI on one pair of a matrix's columns.
GMMMI_PAIR_RUNNER = BENCH_DIR / "_gmmmi_pair_runner.py"

_T0 = time.perf_counter()


def log(msg: str) -> None:
    """Progress line on stderr, with the elapsed wall time of the whole run."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- results


def jsonable(value: Any) -> Any:
    """A JSON-safe copy for records: NaN/inf -> None, arrays and lists cut to 64 items."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return repr(value)[:200]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist()) if value.size <= 64 else f"<array shape={value.shape}>"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value][:64]
    return repr(value)[:200]


def jsonable_full(value: Any) -> Any:
    """Like :func:`jsonable` but keeps whole arrays and lists (small matrices); NaN -> None."""
    import numpy as np

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable_full(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable_full(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable_full(value.tolist())
    if isinstance(value, np.generic):
        return jsonable_full(value.item())
    return value


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` (already JSON-safe) to ``path`` atomically, indented."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(path)


# --------------------------------------------------------------------------- machine


def version(dist: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        import importlib.metadata as md

        return md.version(dist)
    except Exception:
        return None


def loadavg() -> float | None:
    """1-minute load average (other processes on a 2-core machine skew timings)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info(gmmmi_versions: dict | None = None) -> dict:
    """Platform, CPU, load, JAX backend, git commit and package versions of this run."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True
            ).stdout.strip()
            or None
        )
    except Exception:
        commit = None
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import jax

        jax_backend = jax.default_backend()
        jax_devices = [str(d) for d in jax.devices()]
    except Exception:
        jax_backend, jax_devices = None, None
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_start": loadavg(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "jax_backend": jax_backend,
        "jax_devices": jax_devices,
        "git_commit": commit,
        "versions": {
            d: version(d)
            for d in ("bayes_gmm_mi", "jax", "jaxlib", "numpyro", "numpy", "scipy", "scikit-learn")
        },
        "gmmmi_venv_versions": gmmmi_versions,
    }


def fresh_env() -> dict:
    """Environment for a cold-start subprocess: no persistent compilation cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env.pop("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", None)
    env.pop("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", None)
    env["JAX_ENABLE_COMPILATION_CACHE"] = "false"
    return env


# --------------------------------------------------------------------------- GMM-MI venv


def gmmmi_python() -> Path:
    """The interpreter of bench/.venv-gmmmi (which may not exist yet)."""
    return GMMMI_VENV / "bin" / "python"


def ensure_gmmmi_venv() -> Path:
    """Create bench/.venv-gmmmi with GMM-MI 0.8.2 once; reuse it afterwards."""
    py = gmmmi_python()
    check = [str(py), "-c", "import importlib.metadata as m, gmm_mi.mi; print(m.version('gmm-mi'))"]
    if py.exists():
        ok = subprocess.run(check, capture_output=True, text=True)
        if ok.returncode == 0 and ok.stdout.strip() == "0.8.2":
            GMMMI_STAMP.touch()
            return py
        log(f"existing {GMMMI_VENV} is unusable; reinstalling GMM-MI into it")
    log(f"creating {GMMMI_VENV} and installing {' '.join(GMMMI_REQUIREMENTS)} from PyPI (once)")
    steps = []
    if not py.exists():
        steps.append(["python3.11", "-m", "venv", str(GMMMI_VENV)])
    steps.append([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    steps.append([str(py), "-m", "pip", "install", "--quiet", *GMMMI_REQUIREMENTS])
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError as exc:
            raise SystemExit(
                f"Cannot set up the GMM-MI environment: {exc}.\n"
                "It needs `python3.11` on PATH. Use --skip-gmmmi to benchmark without GMM-MI."
            ) from None
        if proc.returncode != 0:
            raise SystemExit(
                "Cannot set up the GMM-MI environment (bench/.venv-gmmmi).\n"
                f"Command failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}\n"
                "GMM-MI 0.8.2 needs network access to PyPI and scikit-learn < 1.7. "
                "Fix the problem and rerun, or use --skip-gmmmi."
            )
    ok = subprocess.run(check, capture_output=True, text=True)
    if ok.returncode != 0:
        raise SystemExit(
            f"GMM-MI installed but does not import:\n{ok.stderr[-3000:]}\nUse --skip-gmmmi."
        )
    GMMMI_STAMP.touch()
    log("GMM-MI environment ready")
    return py


def gmmmi_versions() -> dict | None:
    """Versions of gmm-mi, scikit-learn, numpy and scipy in bench/.venv-gmmmi (None if unknown)."""
    v = subprocess.run(
        [
            str(gmmmi_python()),
            "-c",
            "import importlib.metadata as m, json; print(json.dumps({d: m.version(d) for d in "
            "('gmm-mi', 'scikit-learn', 'numpy', 'scipy')}))",
        ],
        capture_output=True,
        text=True,
    )
    return json.loads(v.stdout) if v.returncode == 0 else None


def run_seconds() -> float:
    """Seconds since the start of the run (the import of this module)."""
    return time.perf_counter() - _T0

"""Shared fixtures, and one JAX compilation cache for the whole test session.

Most of the suite's time is XLA compilation, not computation. Within one process
JAX reuses a compiled program when the shapes repeat (the library pads rows and
components to a few bucket sizes for that reason), but every new process (the
pytest-xdist workers, the notebook kernels, the Dask workers, the subprocess
tests) would compile the same programs again. So the session gets a persistent
compilation cache in a fresh temporary directory: the first process to compile a
program writes it, the others read it. The directory is named by environment
variables set here, before JAX is imported, and inherited by every child
process; it is removed when the session ends. A fresh directory per session
keeps timings honest (nothing is carried over from an earlier run) and keeps
the user's own cache (``~/.cache/bayes_gmm_mi``) out of the tests.

Set ``JAX_COMPILATION_CACHE_DIR`` yourself to keep the cache between runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest

#: The directory this process created for the session's cache, if any (the
#: controller creates it; xdist workers and other children inherit the variable).
_SESSION_CACHE: str | None = None

if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    _SESSION_CACHE = tempfile.mkdtemp(prefix="bayes-gmm-mi-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _SESSION_CACHE
# Cache every program, however quick to compile: most are small, and there are many.
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


def pytest_unconfigure(config):
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


# --------------------------------------------------------------------------- #
# pytest-xdist: which tests go to which worker, in which order
# --------------------------------------------------------------------------- #
#: Modules whose tests are handed to the xdist workers one at a time: long tests
#: that share neither module-scoped fixtures nor array shapes. Every other module
#: goes to one worker as a whole, so that its module-scoped fixtures (fitted
#: estimators, posterior draws, a Dask cluster) are built once and the programs
#: its tests compile (same shapes) are reused. (``--dist loadgroup`` with
#: ``xdist_group`` marks would say the same, but with pytest 9.2 and pytest-xdist
#: 3.8 the groups are silently ignored: pytest-dev/pytest-xdist#1386.)
SPREAD_MODULES = frozenset({"test_notebooks.py", "test_halo_null.py"})


def _module_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n`` and the default ``--dist load``: the work units described above."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if _module_name(nodeid) in SPREAD_MODULES else module

    # Units are handed out in collection order (see pytest_collection_modifyitems),
    # not xdist's default of the units with the most tests first.
    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """On an xdist worker, order the work units: first the modules that have tests
    marked slow, then the notebooks (whose kernels then find many of the programs
    they need in the compilation cache), then the modules of quick tests, which
    keep both workers busy to the end (long units handed out last would leave one
    worker idle while the other finishes them). Each module's tests stay together
    and in their order. A run without xdist keeps the usual order."""
    if not hasattr(config, "workerinput"):
        return
    slow_modules = {_module_name(item.nodeid) for item in items
                    if item.get_closest_marker("slow") is not None}

    def rank(item):
        module = _module_name(item.nodeid)
        return 1 if module == "test_notebooks.py" else 0 if module in slow_modules else 2

    items.sort(key=rank)


def session_cache_config() -> dict:
    """JAX's persistent-cache settings as the session set them (see restore_jax_cache)."""
    return {
        "jax_enable_compilation_cache": True,
        "jax_compilation_cache_dir": os.environ["JAX_COMPILATION_CACHE_DIR"],
        "jax_persistent_cache_min_compile_time_secs":
            float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
    }


@pytest.fixture
def restore_jax_cache():
    """Put the session's compilation cache back after a test that reconfigures it.

    ``configure_compilation_cache`` (the command line calls it) changes JAX's
    process-wide cache settings; without this, one CLI test would switch the
    cache off, or point it at its own temporary directory, for every later test
    in the process.
    """
    yield
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    for name, value in session_cache_config().items():
        jax.config.update(name, value)
    compilation_cache.reset_cache()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)

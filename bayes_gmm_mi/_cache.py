"""Opt-in persistent compilation cache (JAX's), for short-lived processes.

Compiling the EM and MI kernels costs about 1 s per new process; JAX can keep the
compiled kernels on disk. That is a process-wide JAX setting, so it is switched on
only when asked: by the command line, or by a user calling
:func:`configure_compilation_cache`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["configure_compilation_cache", "default_cache_dir", "CACHE_ENV_VAR"]

#: Environment variable naming the cache directory.
CACHE_ENV_VAR = "BAYES_GMM_MI_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/bayes_gmm_mi/jax")

logger = logging.getLogger("bayes_gmm_mi")


def default_cache_dir() -> Path:
    """Directory of the persistent compilation cache.

    Returns
    -------
    pathlib.Path
        ``$BAYES_GMM_MI_CACHE_DIR`` when set and non-empty, otherwise
        ``~/.cache/bayes_gmm_mi/jax``; ``~`` is expanded.
    """
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR.expanduser()


def configure_compilation_cache(
    enabled: bool, path: str | os.PathLike | None = None
) -> Path | None:
    """Switch JAX's persistent compilation cache on or off for this process.

    Parameters
    ----------
    enabled : bool
        Whether compiled kernels are read from and written to disk.
    path : str or path-like, optional
        Cache directory; by default :func:`default_cache_dir`. It is created if
        needed. If it cannot be created, a warning is logged and the cache is
        left off.

    Returns
    -------
    pathlib.Path or None
        The directory in use, or None when the cache is off.

    Notes
    -----
    This changes global JAX configuration (``jax_enable_compilation_cache``,
    ``jax_compilation_cache_dir`` and
    ``jax_persistent_cache_min_compile_time_secs``) for every jitted function of
    the process, which is why the library never calls it by itself: the command
    line does, and a user may (it saves about 1 s of compilation per new process
    after the first). JAX initialises its cache once per process; it is
    reset here so that a second call in the same process (as in tests) takes
    effect.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    directory: Path | None = None
    if enabled:
        directory = Path(path).expanduser() if path is not None else default_cache_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if not os.access(directory, os.W_OK | os.X_OK):
                raise PermissionError(f"{directory} is not writable")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            logger.warning(
                "cannot use compilation cache directory %s (%s); continuing without the cache",
                directory, reason,
            )
            directory = None

    if directory is not None:
        jax.config.update("jax_compilation_cache_dir", str(directory))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_enable_compilation_cache", True)
    else:
        jax.config.update("jax_enable_compilation_cache", False)
    # Forget any cache JAX set up earlier in this process, so the new settings
    # are read at the next compilation.
    compilation_cache.reset_cache()
    return directory

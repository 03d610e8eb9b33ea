"""Will a request fit in memory? One estimate and one check for every entry point.

Each entry point (the one-call functions and estimators at ``fit`` and at
``estimate_mi``, the categorical estimator, :func:`~bayes_gmm_mi.mi_matrix`)
describes its request — rows, columns, data sets, Monte Carlo samples,
bootstrap replicates, posterior draws — and :func:`check` estimates the largest
working arrays of each stage and refuses, *before any work*, a request whose
total exceeds the memory limit, with a :class:`MemoryLimitError` (a
``ValueError`` and a ``MemoryError``) that names the setting responsible, the
estimate in GiB, the limit and the value of the setting that would fit.

The estimates are deliberately rough lower bounds of the real peak (they count
the arrays that grow with a setting, not every temporary): they exist to turn
``mc_samples=10**9`` or ``n_bootstrap=300000`` into advice instead of numpy's
``MemoryError`` minutes later, and must never refuse an ordinary request.

The limit is 4 GiB unless the environment variable ``BAYES_GMM_MI_MEMORY_LIMIT``
says otherwise (bytes, or a size such as ``"16GB"`` or ``"512MiB"``);
:func:`~bayes_gmm_mi.mi_matrix` also takes it as ``memory_limit=``.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MEMORY_ENV_VAR",
    "MemoryLimitError",
    "Need",
    "parse_bytes",
    "memory_limit",
    "needs",
    "posterior_draws",
    "check",
    "check_settings",
]

#: The memory limit when neither ``memory_limit=`` nor the environment variable sets one.
DEFAULT_MEMORY_LIMIT = 4 * 2**30
#: Environment variable that sets the memory limit of every entry point.
MEMORY_ENV_VAR = "BAYES_GMM_MI_MEMORY_LIMIT"

_GIB = 2**30
_FLOAT32 = 4
#: Members per compiled EM batch (:data:`bayes_gmm_mi._batching.CAPACITY`; not
#: imported, to keep this module free of JAX).
_CAPACITY = 32
#: Mixture densities evaluated per Monte Carlo point (joint and marginals).
_DENSITIES = 3
#: P x P arrays of the variational guide alive at once (the guide, Adam's two
#: moments, the gradient, temporaries of the loss).
_GUIDE_COPIES = 6

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


class MemoryLimitError(ValueError, MemoryError):
    """A request whose working arrays would exceed the memory limit, refused before any work.

    Both a ``ValueError`` (a setting the estimator refuses) and a ``MemoryError``.
    """


class Need(NamedTuple):
    """The memory of one stage of a request.

    Attributes
    ----------
    setting : str
        The setting that scales it (``"mc_samples"``, ``"n_bootstrap"``,
        ``"num_samples"``, ``"rows"``).
    value : int
        Its value in this request.
    what : str
        The arrays, for the message ("for the bootstrap (...)").
    nbytes : float
        Estimated bytes (proportional to ``value``).
    """

    setting: str
    value: int
    what: str
    nbytes: float


def parse_bytes(value: Any, name: str = "memory_limit") -> int:
    """A memory size in bytes from an int, a float or a string such as ``"4GB"``.

    Strings take a number and a unit: ``B``, ``KB``, ``MB``, ``GB``, ``TB``
    (powers of 1000) or ``KiB``, ``MiB``, ``GiB``, ``TiB`` (powers of 1024),
    case-insensitive, e.g. ``"512MB"``, ``"1.5 GiB"``; a bare number is bytes.

    Raises
    ------
    TypeError
        Not a number or a string.
    ValueError
        Not positive and finite, or a string that is not a size.
    """
    expected = (f"{name} must be a positive number of bytes (e.g. 4 * 2**30) or a size such "
                "as '4GB' or '512MiB'")
    if isinstance(value, str):
        match = _SIZE.match(value)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ValueError(f"{expected}; got {value!r}. Units: B, KB, MB, GB, TB "
                             "(powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).")
        size = float(match.group(1)) * _UNITS[unit]
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        size = float(value)
    else:
        raise TypeError(f"{expected}; got {value!r} ({type(value).__name__}).")
    if not math.isfinite(size) or size < 1:
        raise ValueError(f"{expected}; got {value!r}.")
    return int(size)


def memory_limit(value: Any = None) -> int:
    """The memory limit in bytes: ``value`` if given, else ``$BAYES_GMM_MI_MEMORY_LIMIT``,
    else :data:`DEFAULT_MEMORY_LIMIT` (4 GiB)."""
    if value is not None:
        return parse_bytes(value)
    env = os.environ.get(MEMORY_ENV_VAR, "").strip()
    if env:
        return parse_bytes(env, f"the environment variable {MEMORY_ENV_VAR}")
    return DEFAULT_MEMORY_LIMIT


def _row_bucket(n: int) -> int:
    from bayes_gmm_mi._pipeline.mixtures import row_bucket

    return row_bucket(n)


def posterior_draws(method: str, num_chains: int, num_samples: int) -> int:
    """Posterior draws a ``method`` makes per data set (0 for the bootstrap)."""
    if method == "mcmc":
        return num_chains * num_samples
    if method == "vi":
        return num_samples
    return 0


def needs(*, rows: int, dim: int, data_sets: int = 1, k_pad: int = 8, mc_samples: int = 0,
          n_bootstrap: int = 0, draws: int = 0, draw_setting: str = "num_samples",
          draw_value: int | None = None, vi_guide: bool = False) -> list[Need]:
    """The memory of each stage of a request.

    Parameters
    ----------
    rows : int
        Rows of the table (n).
    dim : int
        Columns of each data set (D).
    data_sets : int, default 1
        Data sets fitted together (representations, classes, pairs).
    k_pad : int, default 8
        Padded components of the fits (8, the smallest bucket, before K is chosen).
    mc_samples : int
        Monte Carlo points of the integrals.
    n_bootstrap : int
        Bootstrap replicates.
    draws : int
        Posterior draws per data set (:func:`posterior_draws`).
    draw_setting, draw_value : str, int
        The setting that sets ``draws``, for the message.
    vi_guide : bool, default False
        Whether a full-rank variational guide is fitted (``method="vi"``): a
        P x P matrix and its optimiser state per data set, with
        P = K(2D + D(D-1)/2) + K - 1 unconstrained parameters (4487 at K = 8,
        D = 32: about 0.5 GB).

    The terms grow with D as the kernels do: a mixture holds K D² covariance
    entries; EM and every density evaluation hold (rows, K, D) arrays (the
    centred rows, unrolled over D or as one matrix product); the Monte Carlo
    points are (S, D).

    Returns
    -------
    list of Need
    """
    n_pad = _row_bucket(rows)
    mixture = k_pad * (1 + dim + dim * dim) * _FLOAT32          # one mixture's parameters
    out = [Need(
        "rows", rows, f"for the data and EM ({rows} rows × {dim} columns × {data_sets} data sets)",
        (data_sets * n_pad * dim + _CAPACITY * n_pad * (dim + 2)
         + n_pad * k_pad * (dim + 3)) * _FLOAT32 * 1.0)]
    if mc_samples:
        k_int = min(k_pad, 8)
        out.append(Need(
            "mc_samples", mc_samples,
            f"for the Monte Carlo integrals (mc_samples={mc_samples:_} points × {dim} columns)",
            mc_samples * (2 * (dim + 1) + _DENSITIES * k_int * (dim + 3)) * _FLOAT32 * 1.0))
    if n_bootstrap:
        out.append(Need(
            "n_bootstrap", n_bootstrap,
            f"for the bootstrap (n_bootstrap={n_bootstrap:_} replicates × {rows} rows)",
            n_bootstrap * (rows * (8 + _FLOAT32) + 3 * data_sets * mixture) * 1.0))
    if draws:
        value = draws if draw_value is None else draw_value
        out.append(Need(
            draw_setting, value,
            f"for the posterior draws ({draws:_} draws × {data_sets} data sets × {k_pad} "
            "components)",
            3 * draws * data_sets * mixture * 1.0))
    if vi_guide:
        size = k_pad * (2 * dim + dim * (dim - 1) // 2) + k_pad - 1
        out.append(Need(
            "vi_guide", k_pad,
            f"for the full-rank variational guide ({size:_} × {size:_} per data set: "
            f"{k_pad} components in {dim} dimensions)",
            _GUIDE_COPIES * data_sets * size * size * _FLOAT32 * 1.0))
    return out


#: What to lower for each setting: (the action, why it is safe).
_ADVICE = {
    "rows": ("use fewer rows (a random subsample of the table)", ""),
    "mc_samples": ("lower mc_samples", "the default 100_000 gives a Monte Carlo error of "
                                       "about 0.002 nats"),
    "n_bootstrap": ("lower n_bootstrap", "a few hundred replicates are plenty for an interval"),
    "num_samples": ("lower num_samples", "or num_chains; a few thousand draws in all are "
                                         "plenty"),
    "n_permutations": ("lower n_permutations", "999 resolve p-values down to 0.001"),
    "vi_guide": ("use fewer components (n_components), fewer columns, or method='bootstrap' "
                 "or 'mcmc'", "the guide grows as (K D²/2)²"),
}


def check(request: Sequence[Need], where: str, limit: Any = None, advice: str = "") -> None:
    """Refuse a request whose estimated memory exceeds the limit.

    Parameters
    ----------
    request : list of Need
        From :func:`needs`.
    where : str
        The entry point, e.g. ``"mutual_information()"``.
    limit : int, str or None
        Bytes (see :func:`memory_limit`); None: the environment variable or 4 GiB.
    advice : str
        Extra advice for this entry point (e.g. ``pair_batch`` for a matrix).

    Raises
    ------
    MemoryLimitError
        One line: the estimate, the limit, the largest stage and its setting,
        the value of that setting that would fit, and how to raise the limit.
    """
    limit_bytes = memory_limit(limit)
    total = sum(need.nbytes for need in request)
    if total <= limit_bytes:
        return
    worst = max(request, key=lambda need: need.nbytes)
    rest = total - worst.nbytes
    action, why = _ADVICE[worst.setting]
    if rest < limit_bytes and worst.setting not in ("rows", "vi_guide"):
        most = worst.value * (limit_bytes - rest) / worst.nbytes
        if most >= 1:
            step = 10 ** max(0, int(math.log10(most)) - 1)      # 2 significant digits, down
            action += f" to at most about {int(most // step * step):_}"
    raise MemoryLimitError(
        f"{where} would need about {total / _GIB:.1f} GiB, over the memory limit of "
        f"{limit_bytes / _GIB:.1f} GiB: {worst.nbytes / _GIB:.1f} GiB of it {worst.what}. "
        f"{action[0].upper()}{action[1:]}{' (' + why + ')' if why else ''}"
        f"{', ' + advice if advice else ''}, or, if the machine has the memory, raise the "
        f"limit with the environment variable {MEMORY_ENV_VAR} (e.g. '16GB')."
    )


def check_settings(params: dict[str, Any], *, rows: int, dim: int, data_sets: int = 1,
                   k_pad: int | None = None, method: str | None = None,
                   n_bootstrap: int | None = None, where: str = "this estimate") -> None:
    """:func:`check` of an estimator's (validated) settings on a table of ``rows`` × ``dim``.

    ``method`` and ``n_bootstrap`` default to the settings' own; ``k_pad`` to the
    padded size of a fixed ``n_components``, or the smallest (8) before K is
    chosen. Called by every entry point before fitting and before making draws.
    """
    from bayes_gmm_mi._pipeline.mixtures import component_bucket

    method = params["method"] if method is None else method
    if k_pad is None:
        fixed = params["n_components"]
        k_pad = component_bucket(int(fixed)) if isinstance(fixed, numbers.Integral) else 8
    boot = params["n_bootstrap"] if n_bootstrap is None else n_bootstrap
    draws = posterior_draws(method, params["num_chains"], params["num_samples"])
    check(needs(rows=rows, dim=dim, data_sets=data_sets, k_pad=k_pad,
                mc_samples=params["mc_samples"], n_bootstrap=boot if method == "bootstrap" else 0,
                draws=draws, draw_value=params["num_samples"], vi_guide=method == "vi"), where)

"""The one registry of named data sets and validation tasks (re-exported by ``datasets``).

:data:`DATASETS` maps the command-line names to the bivariate data-set classes
(:func:`get_dataset`); :data:`VALIDATION_TASKS` maps the validation tasks'
names to factories of :class:`~bayes_gmm_mi._tasks.ValidationTask`
(:func:`get_validation_task`). Every lookup of a name goes through here (via
:mod:`bayes_gmm_mi.datasets`): the command line's data sets, the benchmarks'
``get_dataset`` calls and the tasks of the calibration study (``studies/calibration``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bayes_gmm_mi._beyond_normal import beyond_normal_suite
from bayes_gmm_mi._bivariate import (
    BivariateGaussian,
    GammaExponential,
    OrderedWeinman,
    TransformedGaussian,
)
from bayes_gmm_mi._tasks import (
    AdditiveUniformNoise,
    BimodalMarginal,
    CanonicalGaussian,
    CategoricalGaussian,
    DiagonalBlocks,
    Independent,
    StudentT,
    UniformDisk,
    ValidationTask,
)

__all__ = [
    "BEYOND_NORMAL_TASKS",
    "DATASETS",
    "VALIDATION_TASKS",
    "beyond_normal_task_names",
    "get_dataset",
    "get_validation_task",
]

_V = TypeVar("_V")


def _lookup(table: Mapping[str, _V], name: Any, what: str) -> _V:
    """``table[name]``, or a TypeError / ValueError that lists the valid names."""
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str, one of {list(table)}; got {name!r} of type "
            f"{type(name).__name__}."
        )
    try:
        return table[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(table), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown {what} {name!r}; valid names are {', '.join(table)}.{hint}"
        ) from None


# --------------------------------------------------------------------------- #
# Data sets
# --------------------------------------------------------------------------- #
#: Data set classes by command-line name.
DATASETS: dict[str, type] = {
    "gaussian": BivariateGaussian,
    "gamma-exponential": GammaExponential,
    "weinman": OrderedWeinman,
    "transformed-gaussian": TransformedGaussian,
}


def get_dataset(
    name: str, **params: Any
) -> BivariateGaussian | GammaExponential | OrderedWeinman | TransformedGaussian:
    """Instantiate a data set by name.

    Parameters
    ----------
    name : str
        One of the keys of :data:`DATASETS`: ``"gaussian"``,
        ``"gamma-exponential"``, ``"weinman"``, ``"transformed-gaussian"``.
    **params
        Keyword arguments of the data set's class (e.g. ``rho=0.9``).

    Returns
    -------
    BivariateGaussian, GammaExponential, OrderedWeinman or TransformedGaussian

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the valid names and the
        closest match), or a parameter value is invalid.
    TypeError
        If ``name`` is not a str, or a parameter is not accepted by the class.
    """
    cls = _lookup(DATASETS, name, "dataset")
    try:
        return cls(**params)
    except TypeError as err:
        if "unexpected keyword argument" in str(err):
            valid = [f.name for f in dataclasses.fields(cls)]
            raise TypeError(
                f"dataset {name!r} does not accept parameter(s) "
                f"{sorted(set(params) - set(valid))}; valid parameters are "
                f"{valid}."
            ) from None
        raise


# --------------------------------------------------------------------------- #
# Validation tasks
# --------------------------------------------------------------------------- #
def _task(name: str, factory: Callable[[], Any]) -> Callable[[], ValidationTask]:
    def make() -> ValidationTask:
        ds = factory()
        return ValidationTask(name, ds, bool(getattr(ds, "discrete_y", False)))

    make.__name__ = f"make_{name.replace('-', '_')}"
    make.__doc__ = f"The {name!r} validation task."
    return make


#: Validation tasks by stable name; each value is a zero-argument callable
#: returning a :class:`ValidationTask` (``.mi``, ``.discrete_y``, ``.sample``).
VALIDATION_TASKS: dict[str, Callable[[], ValidationTask]] = {
    "gaussian": _task("gaussian", lambda: BivariateGaussian(rho=0.6)),
    "half-cube": _task(
        "half-cube", lambda: TransformedGaussian(0.6, "signed_power", "signed_power")
    ),
    "sinh": _task("sinh", lambda: TransformedGaussian(0.6, "sinh", "sinh")),
    "normal-cdf": _task(
        "normal-cdf", lambda: TransformedGaussian(0.6, "normal_cdf", "normal_cdf")
    ),
    "student-t": _task("student-t", lambda: StudentT(rho=0.6, dof=3.0)),
    "uniform-noise": _task("uniform-noise", lambda: AdditiveUniformNoise(epsilon=0.5)),
    "bimodal": _task("bimodal", lambda: BimodalMarginal()),
    "gamma-exponential": _task(
        "gamma-exponential", lambda: GammaExponential(alpha=1.0, log=True)
    ),
    "weinman": _task("weinman", lambda: OrderedWeinman(theta0=1.0, theta1=1.0)),
    "canonical-2x2": _task(
        "canonical-2x2", lambda: CanonicalGaussian(rhos=(0.8, 0.4), dx=2, dy=2)
    ),
    "categorical": _task("categorical", lambda: CategoricalGaussian()),
    "independent": _task("independent", lambda: Independent("gaussian")),
    "independent-gamma-uniform": _task(
        "independent-gamma-uniform", lambda: Independent("gamma-uniform")
    ),
    # Added for issue 14: hard-edged / discrete-looking joint densities.
    "disk": _task("disk", lambda: UniformDisk(radius=1.0)),
    "diagonal-blocks": _task(
        "diagonal-blocks", lambda: DiagonalBlocks(levels=5, width=0.5)
    ),
}


#: The benchmark suite of Czyz et al. (2023), "Beyond Normal" (issue 16), by name
#: (``"bn-..."``); each value is a zero-argument callable returning a
#: :class:`ValidationTask`. Kept apart from :data:`VALIDATION_TASKS` (the calibration
#: study's default set, with 1-D arrays) but looked up by the same
#: :func:`get_validation_task`. Its arrays are always 2-D, ``(n, dx)`` and ``(n, dy)``.
BEYOND_NORMAL_TASKS: dict[str, Callable[[], ValidationTask]] = {
    entry.name: _task(entry.name, entry.factory) for entry in beyond_normal_suite()
}


def beyond_normal_task_names(*, paper_only: bool = False) -> list[str]:
    """Names of the benchmark suite's tasks (the order of the authors' benchmark configuration).

    Parameters
    ----------
    paper_only : bool, default False
        Only the 39 tasks of Czyz et al. (2023), without the extensions.

    Returns
    -------
    list of str
        Keys of :data:`BEYOND_NORMAL_TASKS`.
    """
    return [e.name for e in beyond_normal_suite() if e.paper_name or not paper_only]


def get_validation_task(name: str) -> ValidationTask:
    """Instantiate the validation task ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`VALIDATION_TASKS` or of :data:`BEYOND_NORMAL_TASKS`.

    Returns
    -------
    ValidationTask

    Raises
    ------
    TypeError
        If ``name`` is not a str.
    ValueError
        If ``name`` is unknown (the message lists the valid names and the
        closest match).
    """
    if isinstance(name, str) and (name in BEYOND_NORMAL_TASKS or name.startswith("bn-")):
        return _lookup(BEYOND_NORMAL_TASKS, name, "benchmark task")()
    return _lookup(VALIDATION_TASKS, name, "validation task")()

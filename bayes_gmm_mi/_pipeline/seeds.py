"""Named seed streams: every random choice of the pipeline draws from its own stream.

A user's ``random_state`` becomes one 32-bit *master seed*
(:func:`bayes_gmm_mi._validation.seed_from`); each use derives an independent
numpy generator from ``(seed, stream, *extra)`` with ``np.random.default_rng``,
so adding a use never shifts the numbers of another, and the same master seed
gives the same numbers everywhere (locally, on a cluster, in any order).
"""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["SEED_MAX", "Stream", "generator", "child_seeds"]

#: Upper bound (exclusive) of derived seeds (they fit JAX's int32 seeds).
SEED_MAX = 2**31 - 1


class Stream(enum.IntEnum):
    """The uses of randomness, each with its own stream of a data set's seed."""

    #: Assignment of rows to cross-validation folds.
    FOLDS = 0
    #: EM initialisation seeds (one per ``n_init``).
    INIT = 1
    #: Bootstrap counts (drawn once from the master seed, shared by all data sets).
    BOOTSTRAP = 2
    #: Monte Carlo base samples of the full integrals.
    MC_BASE = 3
    #: Key of the posterior sampler (VI or NUTS).
    POSTERIOR = 4
    #: Standard normals of the difference integrals of draws near the fit.
    MC_DIFFERENCE = 5
    #: Posterior draws of class frequencies (Dirichlet).
    CLASS_FREQUENCIES = 6
    #: Permutations of y's rows of an independence test (with the permutation's index).
    PERMUTATIONS = 7
    #: Seeds of the classes of a categorical variable.
    CLASSES = 10
    #: Seeds of the pairs of a matrix (with the pair's indices).
    PAIRS = 20


def generator(seed: int, stream: Stream, *extra: int) -> np.random.Generator:
    """The numpy generator of ``stream`` (and ``extra`` indices) under ``seed``."""
    return np.random.default_rng([int(seed), int(stream), *(int(e) for e in extra)])


def child_seeds(seed: int, stream: Stream, count: int, *extra: int) -> np.ndarray:
    """``count`` derived seeds in [0, :data:`SEED_MAX`), as int64."""
    return generator(seed, stream, *extra).integers(0, SEED_MAX, count)

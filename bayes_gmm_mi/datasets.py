"""Bivariate data sets whose mutual information is known exactly.

Each data set is a small frozen dataclass with

- ``.mi`` -- the exact mutual information I(X; Y) in nats (closed form);
- ``.sample(n, random_state=None)`` -- ``(x, y)``, two float64 arrays of
  shape ``(n,)`` drawn from the joint distribution;
- ``.name`` -- a short identifier (the key used by :data:`DATASETS`).

They are meant for testing and benchmarking MI estimators. Mutual information
is invariant under an invertible (monotone) map of X alone or of Y alone, so
the ``log`` options and :class:`TransformedGaussian` change the shape of the
marginals without changing ``.mi``.

Examples
--------
>>> from bayes_gmm_mi.datasets import get_dataset
>>> ds = get_dataset("gaussian", rho=0.6)
>>> round(ds.mi, 4)
0.2231
>>> x, y = ds.sample(1000, random_state=0)
>>> x.shape, y.shape
((1000,), (1000,))
"""

from __future__ import annotations

# The classes live in private modules that import only bayes_gmm_mi._data_checks
# (no import cycle); the names are mapped to classes in bayes_gmm_mi._registry.
from bayes_gmm_mi._beyond_normal import (
    BN_TRANSFORMS,
    AdditiveNoise,
    BimodalGaussians,
    MultinormalDense,
    MultinormalSparse,
    MultivariateStudentT,
    SwissRoll,
    Transformed,
    student_t_mi_correction,
)
from bayes_gmm_mi._bivariate import (
    TRANSFORMS,
    BivariateGaussian,
    GammaExponential,
    OrderedWeinman,
    TransformedGaussian,
)
from bayes_gmm_mi._procedural import (
    HALO_PROFILES,
    SPRITE_SHAPES,
    HaloProfiles,
    Sprites,
)
from bayes_gmm_mi._registry import (
    BEYOND_NORMAL_TASKS,
    DATASETS,
    VALIDATION_TASKS,
    beyond_normal_task_names,
    get_dataset,
    get_validation_task,
)
from bayes_gmm_mi._tasks import (
    INDEPENDENT_KINDS,
    AdditiveUniformNoise,
    BimodalMarginal,
    CanonicalGaussian,
    CategoricalGaussian,
    Independent,
    StudentT,
    ValidationTask,
)

__all__ = [
    "DATASETS",
    "TRANSFORMS",
    "BivariateGaussian",
    "GammaExponential",
    "OrderedWeinman",
    "TransformedGaussian",
    "get_dataset",
    # Validation tasks (bayes_gmm_mi._tasks).
    "INDEPENDENT_KINDS",
    "VALIDATION_TASKS",
    "AdditiveUniformNoise",
    "BimodalMarginal",
    "CanonicalGaussian",
    "CategoricalGaussian",
    "Independent",
    "StudentT",
    "ValidationTask",
    "get_validation_task",
    # The benchmark suite of Czyz et al. 2023, "Beyond Normal" (bayes_gmm_mi._beyond_normal).
    "BEYOND_NORMAL_TASKS",
    "BN_TRANSFORMS",
    "AdditiveNoise",
    "BimodalGaussians",
    "MultinormalDense",
    "MultinormalSparse",
    "MultivariateStudentT",
    "SwissRoll",
    "Transformed",
    "beyond_normal_task_names",
    "student_t_mi_correction",
    # Procedural data sets with known generative factors (bayes_gmm_mi._procedural).
    "HALO_PROFILES",
    "SPRITE_SHAPES",
    "HaloProfiles",
    "Sprites",
]

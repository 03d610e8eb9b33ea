"""Every warning the package emits points at the caller's line, not at a library frame.

A warning attributed to ``bayes_gmm_mi/_something.py`` tells the user nothing about which
of their calls caused it, and Python's default filter shows it once per library line
instead of once per call site. Each test below triggers one warning through the public
API only and asserts that the recorded file is this test file.

Data and settings are tiny: the numbers are irrelevant, only the warning's location is.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import ConvergenceWarning, DegenerateComponentWarning

#: Settings that keep every call cheap (the answers do not matter here).
FAST = dict(mc_samples=2000, random_state=0)

def assert_points_here(category: type[Warning], match: str, call) -> None:
    """``call()`` emits ``category`` (message matching ``match``), attributed to this file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    hits = [w for w in caught
            if issubclass(w.category, category) and re.search(match, str(w.message))]
    assert hits, (f"no {category.__name__} matching {match!r}; got "
                  f"{[(w.category.__name__, str(w.message)[:80]) for w in caught]}")
    wrong = [f"{w.filename}:{w.lineno}" for w in hits if w.filename != __file__]
    assert not wrong, f"{category.__name__} ({match!r}) attributed to {wrong}, not to the caller"


@pytest.fixture(scope="module")
def gaussian():
    return bm.datasets.BivariateGaussian(0.6).sample(200, random_state=3)


# --------------------------------------------------------------- posterior methods
def test_thin_components_warning():
    # 12 rows, 4 components: most hold fewer than d + 1 = 3 rows.
    x, y = bm.datasets.BivariateGaussian(0.6).sample(12, random_state=3)
    est = bm.GMMMI(n_components=4, svi_steps=50, num_samples=20, **FAST).fit(x, y)
    assert_points_here(DegenerateComponentWarning, "do not support that many components",
                       lambda: est.estimate_mi(method="vi"))


def test_mcmc_diagnostics_warning():
    # 20 draws of one chain: the bulk ESS is far below its threshold.
    x, y = bm.datasets.BivariateGaussian(0.6).sample(40, random_state=3)
    assert_points_here(
        ConvergenceWarning, "MCMC diagnostics",
        lambda: bm.mutual_information(x, y, method="mcmc", n_components=1, num_chains=1,
                                      num_warmup=20, num_samples=20, **FAST),
    )


# ------------------------------------------------------------------ data checks
def test_duplicated_column_in_conditional_mi():
    d = np.random.default_rng(0).normal(size=(200, 2))
    assert_points_here(
        DegenerateComponentWarning, "linearly identical",
        lambda: bm.conditional_mutual_information(d[:, 0], d[:, 1], 2.0 * d[:, 0] + 1.0,
                                                  n_components=1, n_bootstrap=0, **FAST),
    )


# ------------------------------------------------------------------------- EM fit
def test_em_not_converged_mutual_information(gaussian):
    x, y = gaussian
    assert_points_here(
        ConvergenceWarning, r"EM did not converge in (2 of 2 fits in )?max_iter=1 iterations",
        lambda: bm.mutual_information(x, y, n_components=3, max_iter=1, n_bootstrap=0, **FAST),
    )


def test_em_not_converged_estimator(gaussian):
    x, y = gaussian
    assert_points_here(
        ConvergenceWarning, r"EM did not converge in (2 of 2 fits in )?max_iter=1 iterations",
        lambda: bm.GMMMI(n_components=3, max_iter=1, n_bootstrap=0, **FAST).fit(x, y),
    )


def test_bootstrap_not_converged_estimator(gaussian):
    x, y = gaussian
    est = bm.GMMMI(n_components=3, max_iter=1, n_bootstrap=2, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(x, y)
    assert_points_here(ConvergenceWarning, r"bootstrap (replicates|refits)", est.estimate_mi)


def test_bootstrap_not_converged_mutual_information(gaussian):
    x, y = gaussian
    assert_points_here(
        ConvergenceWarning, r"bootstrap (replicates|refits)",
        lambda: bm.mutual_information(x, y, n_components=3, max_iter=1, n_bootstrap=2, **FAST),
    )


def test_emptied_components():
    # Three distinct points, repeated: of four components one is left empty.
    xy = np.repeat(np.random.default_rng(0).normal(size=(3, 2)), 20, axis=0)
    assert_points_here(
        DegenerateComponentWarning, "mixture components emptied",
        lambda: bm.mutual_information(xy[:, 0], xy[:, 1], n_components=4, n_bootstrap=0,
                                      **FAST),
    )


# ------------------------------------------------------------- component selection
def test_selection_reached_max_components(gaussian):
    x, y = gaussian
    assert_points_here(
        ConvergenceWarning, "reached max_components=1",
        lambda: bm.mutual_information(x, y, max_components=1, n_bootstrap=0, **FAST),
    )


def test_selection_stopped_at_the_row_limit():
    # Eight tight clusters of 30 rows: 240 rows support at most K = 8 components (5 rows
    # per parameter), and BIC still improves there.
    rng = np.random.default_rng(0)
    centres = 10.0 * np.array([[i, j] for i in range(4) for j in range(2)], float)
    xy = np.repeat(centres, 30, axis=0) + 0.1 * rng.normal(size=(240, 2))
    assert_points_here(
        ConvergenceWarning, "the most the .* rows support",
        lambda: bm.mutual_information(xy[:, 0], xy[:, 1], selection="bic", patience=20,
                                      n_bootstrap=0, **FAST),
    )


# ------------------------------------------------------------------ categorical y
def test_categorical_em_not_converged(gaussian):
    x, _ = gaussian
    labels = np.random.default_rng(0).integers(0, 2, x.shape[0])
    assert_points_here(
        ConvergenceWarning, "EM did not converge",
        lambda: bm.mutual_information(x, labels, discrete_y=True, n_components=3, max_iter=1,
                                      n_bootstrap=2, **FAST),
    )


# ------------------------------------------------------------------------ mi_matrix
def test_mi_matrix_em_not_converged(gaussian):
    x, y = gaussian
    data = np.column_stack([x, y, np.random.default_rng(0).normal(size=x.shape[0])])
    assert_points_here(
        ConvergenceWarning, "EM did not converge",
        lambda: bm.mi_matrix(data, n_components=3, max_iter=1, n_bootstrap=2, **FAST),
    )


def test_mi_matrix_selection_limit(gaussian):
    x, y = gaussian
    data = np.column_stack([x, y])
    assert_points_here(
        ConvergenceWarning, "max_components=1",
        lambda: bm.mi_matrix(data, max_components=1, n_bootstrap=0, **FAST),
    )

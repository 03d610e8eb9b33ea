"""MCMC diagnostics of the MI draws against ArviZ's (an independent implementation)."""

import math
import warnings

import numpy as np
import pytest

from bayes_gmm_mi._arviz import import_arviz
from bayes_gmm_mi._bayes import chain_diagnostics


def _ar1(rng, chains, draws, phi, shift=0.0):
    x = np.zeros((chains, draws))
    noise = rng.standard_normal((chains, draws))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x + np.asarray(shift, float).reshape(-1, 1)


def _cases():
    rng = np.random.default_rng(0)
    return {
        "independent": rng.standard_normal((4, 500)),
        "autocorrelated": _ar1(rng, 4, 500, 0.9),
        "one chain off": _ar1(rng, 4, 500, 0.5, [0.0, 0.0, 0.0, 1.5]),
        "odd length": _ar1(rng, 3, 101, 0.3),
        "ties": np.round(rng.standard_normal((4, 200)), 1),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_rank_normalised_rhat_and_ess_match_arviz(name):
    draws = _cases()[name]
    az = import_arviz()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_rhat = float(az.rhat(draws, method="rank"))
        ref_bulk = float(az.ess(draws, method="bulk"))
        ref_tail = float(az.ess(draws, method="tail", prob=(0.05, 0.95)))
    ours = chain_diagnostics(draws)
    # Same definitions (Vehtari et al. 2021), same estimators: equal to rounding.
    assert ours["r_hat"] == pytest.approx(ref_rhat, rel=1e-9)
    assert ours["ess_bulk"] == pytest.approx(ref_bulk, rel=1e-9)
    assert ours["ess_tail"] == pytest.approx(ref_tail, rel=1e-9)


def test_poor_mixing_is_flagged_and_undefined_cases_are_nan():
    rng = np.random.default_rng(1)
    stuck = _ar1(rng, 4, 400, 0.5, [0.0, 0.0, 0.0, 2.0])
    assert chain_diagnostics(stuck)["r_hat"] > 1.1
    assert chain_diagnostics(_ar1(rng, 4, 400, 0.99))["ess_bulk"] < 100
    assert math.isnan(chain_diagnostics(rng.standard_normal((1, 100)))["r_hat"])
    assert all(math.isnan(v) for v in chain_diagnostics(np.ones((4, 50))).values())
    assert all(math.isnan(v) for v in chain_diagnostics(np.zeros((4, 3))).values())


def test_diagnosing_mcmc_draws_does_not_import_arviz():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from bayes_gmm_mi._bayes import chain_diagnostics\n"
        "chain_diagnostics(np.random.default_rng(0).standard_normal((4, 100)))\n"
        "print('arviz' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

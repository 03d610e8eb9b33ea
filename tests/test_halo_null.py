"""Known answer: the null factor of the NFW halo data set has MI ≈ 0 with the data.

``HaloProfiles(profile="nfw")`` draws the Einasto shape ``alpha`` and returns it
as a factor, but the NFW profile does not use it: the data, and anything
computed from them (a β-VAE's latents included), are independent of ``alpha``,
so every MI with it is exactly 0. The tests estimate those MIs with
``mi_matrix`` and check that each is small with a bootstrap interval that
reaches 0, while the MI with ``log10_mass`` is clearly positive. To show that
the check can fail, the same estimate on ``profile="einasto"``, where ``alpha``
shapes the profile, must find it.

The factors are uniform (hard edges), which a Gaussian mixture fits only
approximately; the misfit alone gives independent uniform variables an MI of a
few hundredths of a nat with intervals that exclude 0. So every column is
passed through ``transform="rank"`` (normal scores of its ranks, an invertible
map of each variable: the MI is unchanged).

Thresholds are in nats. A null MI has a bootstrap mean below ``NULL_MAX`` and a
95% interval whose lower end is below ``NULL_LOW``: an estimate of a non-negative
quantity whose truth is 0 sits just above 0, with a bootstrap sd of about 0.001
at N = 2000 and of a few thousandths at N = 1000, so both bounds lie many sd
above a null estimate, while the MI with the mass is of order 1 nat. A clearly
positive MI has its whole 95% interval above ``NULL_MAX`` and a mean at least
``POSITIVE_Z`` bootstrap sd above 0.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import bayes_gmm_mi as bgm
from bayes_gmm_mi.datasets import HaloProfiles

N = 2000
N_BOOTSTRAP = 30
RADII = (0, 5, 10, 15)      # indices of 0.010, 0.046, 0.215 and 1.0 Mpc
NULL_MAX = 0.02             # a null MI's bootstrap mean stays below this
NULL_LOW = 0.005            # ... and the lower end of its 95% interval below this
POSITIVE_Z = 5.0            # a real MI's mean is at least this many bootstrap sd above 0


def summary(matrix: bgm.MIMatrix, factor: str) -> pd.DataFrame:
    """Bootstrap mean, sd and 95% interval of every row's MI with ``factor``."""
    low, high = matrix.interval(0.95)
    return pd.DataFrame({
        "mean": matrix.mean().to_pandas()[factor], "sd": matrix.std().to_pandas()[factor],
        "low": low.to_pandas()[factor], "high": high.to_pandas()[factor],
    })


def assert_null(table: pd.DataFrame) -> None:
    assert (table["mean"] < NULL_MAX).all(), table
    assert (table["low"] <= NULL_LOW).all(), table


def assert_clearly_positive(row: pd.Series) -> None:
    assert row["low"] > NULL_MAX, row
    assert row["mean"] > POSITIVE_Z * row["sd"], row


def profile_matrix(profile: str, factor_names: list[str]) -> bgm.MIMatrix:
    """MI of the noisy log-density at a few radii with the named factors."""
    halos = HaloProfiles(profile=profile)
    log_rho, factors = halos.sample(N, random_state=0)
    columns = pd.DataFrame(log_rho[:, list(RADII)],
                           columns=[f"log_rho({halos.radii[i]:.3f} Mpc)" for i in RADII])
    return bgm.mi_matrix(columns, factors[factor_names], transform="rank",
                         n_bootstrap=N_BOOTSTRAP, random_state=0)


@pytest.mark.slow
def test_nfw_profiles_carry_no_information_about_alpha():
    matrix = profile_matrix("nfw", ["log10_mass", "alpha"])
    assert_null(summary(matrix, "alpha"))
    for _, row in summary(matrix, "log10_mass").iterrows():
        assert_clearly_positive(row)


@pytest.mark.slow
def test_einasto_profiles_do_carry_alpha():
    """The power check: where alpha shapes the profile, the same estimate sees it."""
    alpha = summary(profile_matrix("einasto", ["alpha"]), "alpha")
    with pytest.raises(AssertionError):
        assert_null(alpha)
    assert_clearly_positive(alpha.loc[alpha["mean"].idxmax()])


@pytest.mark.slow
def test_vae_latents_carry_no_information_about_alpha():
    path = Path(__file__).resolve().parents[1] / "models" / "train.py"
    spec = importlib.util.spec_from_file_location("_halo_null_train", path)
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)

    # A short training (a few seconds): the null holds for any encoder, trained or not;
    # the mass check below makes sure that this one does encode something (after 250
    # steps two latents carry ~1.6 nats about the mass). The same call as the halo
    # notebook's fast setting, so the two share one compiled training program.
    arrays = train.train("halos", n=1000, steps=250, seed=0, log_every=250, verbose=False)
    latents = pd.DataFrame(arrays["z"], columns=[f"z{i}" for i in range(arrays["z"].shape[1])])
    factors = pd.DataFrame({"log10_mass": arrays["factor__log10_mass"],
                            "alpha": arrays["factor__alpha"]})
    matrix = bgm.mi_matrix(latents, factors, transform="rank",
                           n_bootstrap=20, random_state=0)
    assert_null(summary(matrix, "alpha"))
    mass = summary(matrix, "log10_mass")
    assert_clearly_positive(mass.loc[mass["mean"].idxmax()])

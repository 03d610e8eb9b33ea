"""The one pipeline behind every entry point: settings table, compilation per bucket,
the same selection options and warnings everywhere."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from bayes_gmm_mi import GMMMI, ConvergenceWarning, GMMCategoricalMI, mi_matrix


def test_the_settings_table_covers_every_parameter():
    from bayes_gmm_mi._pipeline.settings import PARAMETER_CONSTRAINTS

    names = [n for n in inspect.signature(GMMMI).parameters]
    assert sorted(PARAMETER_CONSTRAINTS) == sorted(names)
    assert sorted(GMMCategoricalMI().get_params()) == sorted(names)


def test_init_methods_match_the_kernel():
    from bayes_gmm_mi import _em
    from bayes_gmm_mi._pipeline.settings import INIT_METHODS

    assert INIT_METHODS == _em.INIT_METHODS


@pytest.mark.parametrize("name, value, error", [
    ("n_components", "three", ValueError), ("n_components", 0, ValueError),
    ("selection", "CV", ValueError), ("reg_covar", 2.0, ValueError),
    ("progress", 1, TypeError), ("random_state", -1, ValueError),
    ("random_state", "seed", TypeError), ("method", "nuts", ValueError),
])
def test_every_entry_point_refuses_a_bad_setting_with_the_same_message(name, value, error):
    x = np.random.default_rng(0).normal(size=(200, 2))
    messages = []
    for call in (lambda: GMMMI(**{name: value}).fit(x[:, 0], x[:, 1]),
                 lambda: GMMCategoricalMI(**{name: value}).fit(x[:, 0], x[:, 1] > 0)):
        with pytest.raises(error) as info:
            call()
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert name in messages[0]
    if name not in ("method", "progress", "random_state"):
        with pytest.raises(error, match=name):
            mi_matrix(x, **{name: value})


def _bimodal(rng, n):
    x = np.concatenate([rng.normal(-3, 1, n // 2), rng.normal(3, 1, n - n // 2)])
    y = x + rng.normal(size=n)
    return x, y


def test_mi_matrix_takes_every_selection_option_and_warns_like_gmmmi():
    rng = np.random.default_rng(1)
    x, y = _bimodal(rng, 400)
    options = dict(selection="bic", max_components=1, n_bootstrap=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="reached max_components=1") as single:
        GMMMI(**options).fit(x, y)
    with pytest.warns(ConvergenceWarning, match="reached max_components=1") as matrix:
        result = mi_matrix(np.column_stack([x, y]), **options)
    assert single[0].filename == __file__
    assert matrix[0].filename == __file__
    assert "pair (a0, a1)" in str(matrix[0].message)
    assert int(result.n_components.values[0, 1]) == 1


def test_selection_options_give_the_same_choice_for_a_pair_and_its_matrix():
    """BIC is deterministic given the fits: a pair and the 1-pair matrix choose alike."""
    rng = np.random.default_rng(2)
    x, y = _bimodal(rng, 1000)
    est = GMMMI(selection="bic", n_bootstrap=0, random_state=0).fit(x, y)
    result = mi_matrix(np.column_stack([x, y]), selection="bic", n_bootstrap=0, random_state=0)
    assert int(result.n_components.values[0, 1]) == est.n_components_
    assert float(result.point_estimate.values[0, 1]) == pytest.approx(est.mi_, abs=0.02)


@pytest.mark.slow
def test_a_second_call_on_new_data_of_the_same_bucket_does_not_compile_again():
    """Categorical VI/MCMC used to recompile on every call (the rows of each class
    set the program's shape); through the pipeline a class is padded to its bucket."""
    import bayes_gmm_mi._posterior as post

    settings = dict(n_components=2, n_bootstrap=0, num_chains=2, num_warmup=10,
                    num_samples=10, svi_steps=10, mc_samples=2000)

    def run(seed, n):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 2, n)
        x = labels + rng.normal(size=n)
        est = GMMCategoricalMI(random_state=seed, **settings).fit(x, labels)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 20 NUTS draws: diagnostics warn
            for method in ("vi", "mcmc"):
                assert np.all(np.isfinite(est.estimate_mi(method=method).draws))

    run(0, 600)
    before = dict(post.TRACE_COUNTS)
    run(1, 650)            # other rows, other class sizes, the same buckets
    assert post.TRACE_COUNTS == before


def test_row_weights_act_as_copies_of_rows_in_selection_and_fit():
    """Doubling every row's weight changes no held-out score per row and no EM fit;
    zero weight removes a row (the basis of bootstrap replicates that re-choose K)."""
    from bayes_gmm_mi._pipeline import engine, prepare
    from bayes_gmm_mi._pipeline.settings import fit_settings

    rng = np.random.default_rng(4)
    x, y = _bimodal(rng, 600)
    scaled, _ = prepare.scale_joint([x[:, None], y[:, None]], transform=None)
    settings = fit_settings(GMMMI().get_params())
    plain = prepare.stack([scaled], [np.arange(600)], [7])
    doubled = plain._replace(weights=2.0 * plain.rows)
    a, sel_a, _ = engine.fit_data_sets(plain, settings, n_samples=600, seed=7)
    b, sel_b, _ = engine.fit_data_sets(doubled, settings, n_samples=600, seed=7)
    assert sel_a.k[0] == sel_b.k[0] > 1
    assert sel_a.scores[0] == pytest.approx(sel_b.scores[0], abs=1e-5)
    np.testing.assert_allclose(a.fits.means, b.fits.means, atol=1e-4)
    # Half the rows at weight 0: the fit is that of the other half alone.
    half = np.zeros_like(plain.rows)
    half[0, :300] = 1.0
    c, _, _ = engine.fit_data_sets(plain._replace(weights=half), settings, n_samples=600, seed=7)
    alone = prepare.stack([scaled[:300]], [np.arange(300)], [7])
    d, _, _ = engine.fit_data_sets(alone, settings, n_samples=300, seed=7)
    np.testing.assert_allclose(np.sort(c.fits.weights[0])[::-1][:3],
                               np.sort(d.fits.weights[0])[::-1][:3], atol=1e-4)


def test_bootstrap_draws_of_a_weak_dependence_match_their_closed_form_mi():
    # Independent Gaussian columns, one component: each replicate's MI is
    # -log(1 - r_b^2) / 2 exactly. Near-fit difference integrals with 2000
    # common points shrank this spread by a third (their error ~ r, MI ~ r^2);
    # the draws must reproduce the closed form's interval.
    import bayes_gmm_mi as bm
    from bayes_gmm_mi._pipeline.uncertainty import BOOTSTRAP, Request

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 1000))
    y = y + 0.06 * x
    est = bm.GMMMI(n_components=1, transform=None, random_state=3).fit(x, y)
    draws = BOOTSTRAP.draw(est._fitted, Request(n_bootstrap=200))
    values, _ = est._integrate_draws(draws, est.get_params())
    cov = np.asarray(draws.params.covariances)[0][:, 0]
    r = cov[:, 0, 1] / np.sqrt(cov[:, 0, 0] * cov[:, 1, 1])
    exact = -0.5 * np.log1p(-(r**2))
    for q in (2.5, 50, 97.5):
        assert abs(np.percentile(values[0], q) - np.percentile(exact, q)) < 4e-4

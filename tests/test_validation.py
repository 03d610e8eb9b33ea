"""Bad input: each gets a clear ValueError/TypeError naming expected and received."""

import numpy as np
import pandas as pd
import pytest

from bayes_gmm_mi import GMMMI, mutual_information


@pytest.fixture
def xy(rng):
    x = rng.normal(size=200)
    return x, x + rng.normal(size=200)


def test_nan_and_inf(xy):
    x, y = xy
    x = x.copy()
    x[7] = np.nan
    with pytest.raises(ValueError, match=r"x must be finite; it has 1 NaN .* row 7"):
        mutual_information(x, y)
    y = y.copy()
    y[3] = np.inf
    with pytest.raises(ValueError, match=r"y must be finite"):
        mutual_information(xy[0], y)


def test_different_lengths(xy):
    with pytest.raises(ValueError, match=r"same number of rows \(paired samples\); got x: 200, y: 150"):
        mutual_information(xy[0], xy[1][:150])


def test_too_few_rows_for_folds_and_components(rng):
    x = rng.normal(size=3)
    with pytest.raises(ValueError, match=r"n_folds=2 needs at least 4 rows; got 3"):
        mutual_information(x, x + 1.0 * rng.normal(size=3))
    x = rng.normal(size=8)
    with pytest.raises(ValueError, match=r"n_components=4 needs at least 12 rows .* got 8"):
        mutual_information(x, rng.normal(size=8), n_components=4)


def test_constant_variable(xy):
    with pytest.raises(ValueError, match=r"y is constant \(every value is 2.5\)"):
        mutual_information(xy[0], np.full(200, 2.5))


def test_non_numeric_data(xy):
    with pytest.raises(TypeError, match=r"x must hold real numbers; got an array of dtype <U"):
        mutual_information(["a", "b", "c"], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"y must hold real numbers.*dtype object"):
        mutual_information(xy[0], pd.Series(["1.0"] * 199 + [None]))
    with pytest.raises(TypeError, match=r"x must be a continuous numeric variable; got boolean"):
        mutual_information(xy[0] > 0, xy[1])


def test_bad_shapes_and_too_many_columns_are_refused(xy):
    cube = np.zeros((200, 2, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(n,\) or \(n, d\); got an array of shape \(200, 2, 2\)"):
        mutual_information(cube, xy[1])
    wide = np.random.default_rng(0).normal(size=(200, 32))
    with pytest.raises(ValueError, match=r"33 columns in all \(32 \+ 1\); the mixture kernels support at most 32"):
        mutual_information(wide, xy[1])
    with pytest.raises(ValueError, match=r"x\[:, 1\] is constant"):
        mutual_information(np.column_stack([xy[0], np.ones(200)]), xy[1])


def test_unknown_option_name_suggests_the_right_one(xy):
    with pytest.raises(TypeError, match=r"unknown option 'n_inits'\. Did you mean 'n_init'\?"):
        mutual_information(*xy, n_inits=3)


@pytest.mark.parametrize(
    ("option", "value", "error", "message"),
    [
        ("selection", "bics", ValueError, r"selection must be one of .* got 'bics'\. Did you mean 'bic'"),
        ("init", "k-means", ValueError, r"init must be one of .*Did you mean 'kmeans"),
        ("units", "bits", ValueError, r"units must be one of \('nat', 'bit'\); got 'bits'"),
        ("n_components", "many", ValueError, r"n_components must be 'auto' or a positive int"),
        ("n_components", 0, ValueError, r"n_components must be an integer ≥ 1; got 0"),
        ("n_folds", 1, ValueError, r"n_folds must be an integer ≥ 2; got 1"),
        ("reg_covar", -1.0, ValueError, r"reg_covar must be in \(0.0, 1.0\]; got -1.0"),
        ("tol", "small", TypeError, r"tol must be a real number; got 'small'"),
        ("max_iter", 2.5, TypeError, r"max_iter must be an integer ≥ 1; got 2.5"),
        ("integration", "simpson", ValueError, r"integration must be one of \('mc', 'quadrature'\)"),
        ("transform", "log", ValueError, r"transform must be one of \('auto', None, 'rank'\); got 'log'"),
        ("progress", "yes", TypeError, r"progress must be True or False"),
        ("random_state", -5, ValueError, r"random_state must be a non-negative integer; got -5"),
        ("random_state", "seed", TypeError, r"random_state must be None, a non-negative int"),
    ],
)
def test_bad_option_values(xy, option, value, error, message):
    with pytest.raises(error, match=message):
        mutual_information(*xy, **{option: value})


def test_negative_n_bootstrap(xy):
    with pytest.raises(ValueError, match=r"n_bootstrap must be an integer ≥ 0; got -1"):
        mutual_information(*xy, n_bootstrap=-1)
    with pytest.raises(TypeError, match=r"n_bootstrap must be an integer ≥ 0; got 2.0"):
        GMMMI(n_bootstrap=2.0).fit(*xy)


def test_estimate_before_fit():
    with pytest.raises(ValueError, match=r"not fitted yet; call fit\(x, y\)"):
        GMMMI().estimate_mi()


def test_interval_probability(xy):
    res = mutual_information(*xy, n_bootstrap=5, random_state=0)
    with pytest.raises(ValueError, match=r"prob must be a number in \(0, 1\); got 95"):
        res.interval(95)

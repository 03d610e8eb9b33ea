"""Awkward data (issue 15): discrete values, misaligned rows, degenerate pairs, small samples.

Every reproducer of the issue, with a known answer or a checked warning/error:
discrete columns are refused with advice or estimated by counts / dequantised;
pandas rows are paired by index; masked rows are dropped pairwise; a
deterministic pair warns that its MI is a lower bound; the categorical
small-sample bias is corrected; an overfitting fixed K and repeated rows warn.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mutual_info_score

from bayes_gmm_mi import (
    GMMMI,
    datasets,
    entropy,
    mi_matrix,
    mutual_information,
)
from bayes_gmm_mi._pipeline import counts, screen
from bayes_gmm_mi.exceptions import DegenerateComponentWarning, MisspecificationWarning

RHO = 0.6
TRUE_MI = -0.5 * math.log(1 - RHO**2)   # 0.2231 nats


def gaussian_pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    return x, RHO * x + math.sqrt(1 - RHO**2) * r.normal(size=n)


def likert(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return r.integers(1, 6, n) * 1.0, r.integers(1, 6, n) * 1.0


def covers(res, value: float, prob: float = 0.95) -> bool:
    low, high = res.interval(prob)
    return low <= value <= high


def consistent_with_zero(res, prob: float = 0.95) -> bool:
    """The interval's lower end is within the Monte Carlo error of 0 (the study's rule)."""
    return res.interval(prob)[0] <= res.mc_error


# ------------------------------------------------------------ discrete values
@pytest.mark.parametrize("make", [
    lambda r: (r.integers(1, 6, 2000) * 1.0, r.integers(1, 6, 2000) * 1.0),   # Likert
    lambda r: (r.poisson(1.0, 2000) * 1.0, r.poisson(1.0, 2000) * 1.0),       # counts
], ids=["likert", "poisson"])
def test_independent_discrete_pairs_are_refused_with_advice(make):
    x, y = make(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^x has \d+ distinct values in 2000 rows.*discrete_x=True"
                       r".*dequantise=True"):
        mutual_information(x, y, random_state=0)


def test_a_discrete_column_is_named_in_the_refusal():
    x, _ = gaussian_pair(1000)
    y = np.random.default_rng(1).integers(0, 4, 1000) * 1.0
    with pytest.raises(ValueError, match=r"^y has 4 distinct values"):
        GMMMI(random_state=0).fit(x, y)


def test_two_discrete_variables_by_counts_consistent_with_zero():
    for seed in range(3):
        x, y = likert(2000, seed)
        res = mutual_information(x, y, discrete_x=True, discrete_y=True, n_bootstrap=200,
                                 random_state=seed)
        assert covers(res, 0.0), res.interval()
        assert res.n_components == 0 and res.draws.size == 200


def test_two_discrete_variables_by_counts_cover_a_known_table():
    # X uniform over 5 values; Y = X with probability 0.3, else uniform.
    table = np.full((5, 5), 0.7 / 25) + np.eye(5) * 0.3 / 5
    truth = float(np.sum(table * np.log(table / np.outer(table.sum(1), table.sum(0)))))
    r = np.random.default_rng(3)
    cells = r.choice(25, size=4000, p=table.ravel())
    labels = np.array(list("abcde"))
    res = mutual_information(labels[cells // 5], cells % 5, discrete_x=True, discrete_y=True,
                             n_bootstrap=200, random_state=0)
    assert covers(res, truth), (truth, res.interval())
    post = mutual_information(labels[cells // 5], cells % 5, discrete_x=True, discrete_y=True,
                              method="vi", random_state=0)
    assert covers(post, truth) and post.method == "vi"


def test_plugin_mi_matches_scikit_learn_and_correction_is_miller_madow():
    r = np.random.default_rng(0)
    a, b = r.integers(0, 4, 500), r.integers(0, 3, 500)
    b[:200] = a[:200] % 3
    ones = np.ones((1, 500))
    assert counts.plugin_mi(a, b, ones)[0] == pytest.approx(mutual_info_score(a, b), abs=1e-12)
    # every cell is filled here: the correction is (4 - 1)(3 - 1) / (2 n)
    assert counts.plugin_mi(a, b, ones)[0] - counts.corrected_mi(a, b, ones)[0] == \
        pytest.approx(6 / 1000, abs=1e-12)


def test_sparse_table_warns():
    r = np.random.default_rng(0)
    with pytest.warns(MisspecificationWarning, match="per cell"):
        mutual_information(r.integers(0, 10, 200), r.integers(0, 10, 200), discrete_x=True,
                           discrete_y=True, n_bootstrap=10, random_state=0)


def test_discrete_x_alone_is_the_categorical_path_swapped():
    data = datasets.CategoricalGaussian()
    x, labels = data.sample(1000, random_state=0)
    swapped = mutual_information(labels, x, discrete_x=True, n_bootstrap=0, transform=None,
                                 random_state=0)
    direct = mutual_information(x, labels, discrete_y=True, n_bootstrap=0, transform=None,
                                random_state=0)
    assert swapped.point_estimate == pytest.approx(direct.point_estimate, abs=1e-6)


def test_dequantise_keeps_each_value_in_its_cell_with_independent_noise():
    x, y = likert(2000, 0)
    out = screen.dequantise(np.column_stack([x, y]))
    assert np.array_equal(np.rint(out), np.column_stack([x, y]))      # integers: v + U(-1/2, 1/2)
    noise = out - np.column_stack([x, y])
    assert abs(np.corrcoef(noise.T)[0, 1]) < 0.1
    assert np.all(np.abs(noise) <= 0.5)
    assert np.array_equal(out, screen.dequantise(np.column_stack([x, y])))   # deterministic
    smooth = np.random.default_rng(1).normal(size=(50, 2))
    assert np.array_equal(screen.dequantise(smooth), smooth)               # no ties: unchanged


@pytest.mark.slow
def test_dequantised_independent_discrete_pair_is_consistent_with_zero():
    x, y = likert(1000, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MisspecificationWarning)   # the data fit: hard edges
        res = mutual_information(x, y, dequantise=True, n_bootstrap=20, random_state=0)
    assert consistent_with_zero(res), (res.interval(), res.mc_error)


def test_mi_matrix_refuses_a_discrete_looking_continuous_column():
    x, y = gaussian_pair(600)
    table = pd.DataFrame({"x": x, "y": y, "score": np.random.default_rng(0).integers(1, 6, 600)})
    with pytest.raises(ValueError, match=r"column 'score' has 5 distinct values.*categorical="):
        mi_matrix(table, n_bootstrap=0, random_state=0)


def test_mi_matrix_names_the_cells_that_are_degenerate_or_below_the_knn_estimate():
    # Hostile-user finding #6: a copied column and a threshold label gave matrix cells
    # with no warning.
    r = np.random.default_rng(0)
    x = r.normal(size=800)
    table = pd.DataFrame({"x": x, "copy": x + 1e-9 * r.normal(size=800),
                          "sign": np.where(x > 0, "pos", "neg")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = mi_matrix(table, categorical=["sign"], n_bootstrap=10, random_state=0)
    text = {(w.category, str(w.message)) for w in caught}
    assert any(c is DegenerateComponentWarning and "('x', 'copy')" in t for c, t in text)
    knn_warned = [t for c, t in text if c is MisspecificationWarning and "nearest-neighbour" in t]
    assert knn_warned and all("sign" in t for t in knn_warned)
    check = m.info["knn_check"]
    # Ross's estimate of a threshold label is log 2; the flagged cells hold 'sign'.
    names = list(m.point_estimate.x.values)
    assert check["knn_mi"][names.index("x"), names.index("sign")] == pytest.approx(
        math.log(2), abs=0.02)
    assert check["below"] and all("sign" in cell for cell in check["below"])


def test_mi_matrix_names_sparse_tables():
    r = np.random.default_rng(0)
    table = pd.DataFrame({"c1": r.integers(0, 12, 800).astype(str),
                          "c2": r.integers(0, 20, 800).astype(str),
                          "c3": r.integers(0, 2, 800).astype(str)})
    with pytest.warns(MisspecificationWarning, match=r"1 categorical × categorical cell\(s\) "
                                                     r"\(\('c1', 'c2'\)\).*fewer than 5 rows"):
        mi_matrix(table, categorical=["c1", "c2", "c3"], n_bootstrap=10, random_state=0)


# ------------------------------------------------------------------ alignment
def test_pandas_series_are_paired_by_index():
    x, y = gaussian_pair(1000)
    shuffled = pd.Series(y).sample(frac=1, random_state=0)
    res = mutual_information(pd.Series(x), shuffled, n_bootstrap=0, transform=None,
                             random_state=0)
    plain = mutual_information(x, y, n_bootstrap=0, transform=None, random_state=0)
    assert res.point_estimate == pytest.approx(plain.point_estimate, abs=1e-6)
    assert res.point_estimate == pytest.approx(TRUE_MI, abs=0.05)   # paired by position: ≈ 0


def test_pandas_indexes_with_other_labels_are_an_error():
    x, y = gaussian_pair(500)
    with pytest.raises(ValueError, match=r"indexes do not match.*495 in common.*\.align\("):
        mutual_information(pd.Series(x), pd.Series(y, index=np.arange(500) + 5))


def test_a_reordered_series_with_a_plain_array_warns_of_pairing_by_position():
    x, y = gaussian_pair(800)
    shuffled = pd.Series(x).sample(frac=1, random_state=0)
    with pytest.warns(UserWarning, match=r"x is a pandas object whose index is not in order.*"
                                         r"paired by\s+position") as record:
        mutual_information(shuffled, y, n_bootstrap=0, transform=None, random_state=0)
    assert any(w.filename == __file__ for w in record)


def test_an_ordered_index_with_a_plain_array_is_silent():
    x, y = gaussian_pair(800)
    dated = pd.Series(x, index=pd.date_range("2020-01-01", periods=800, freq="D"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mutual_information(dated, y, n_bootstrap=0, transform=None, random_state=0)
    assert res.point_estimate == pytest.approx(TRUE_MI, abs=0.05)


def test_masked_rows_are_dropped_pairwise_and_stated():
    x, y = gaussian_pair(1000)
    mask = np.arange(1000) % 10 == 0
    with pytest.warns(UserWarning, match=r"dropped 100 of 1000 rows masked in x"):
        res = mutual_information(np.ma.masked_array(x, mask=mask), y, n_bootstrap=0,
                                 transform=None, random_state=0)
    kept = mutual_information(x[~mask], y[~mask], n_bootstrap=0, transform=None,
                              random_state=0)
    assert res.n_samples == 900
    assert res.point_estimate == pytest.approx(kept.point_estimate, abs=1e-6)


# ------------------------------------------------------- degenerate dependence
def test_a_point_mass_is_named_and_not_called_a_deterministic_relation():
    # x = 0 with probability 0.3 (independent of everything), else exp(z), y = z + noise:
    # by the chain rule I(X;Y) = 0.7 * I(Z;Y) = 0.7 * log(2) / 2.
    r = np.random.default_rng(0)
    z = r.normal(size=2000)
    x = np.where(r.random(2000) < 0.3, 0.0, np.exp(z))
    y = z + r.normal(size=2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = mutual_information(x, y, n_bootstrap=30, random_state=0)
    kinds = {w.category for w in caught}
    assert DegenerateComponentWarning not in kinds
    messages = [str(w.message) for w in caught if w.category is MisspecificationWarning]
    assert any("x has a point mass" in m and "hold exactly 0" in m for m in messages)
    assert all(w.filename == __file__ for w in caught)
    low, high = res.interval(0.95)
    assert low <= 0.7 * math.log(2) / 2 <= high


def test_a_deterministic_curved_relation_is_not_answered_silently():
    # y = x**2: the MI is infinite; no mixture of a few components can say so, but the
    # answer must come with a warning (hostile-user finding #4).
    x = np.random.default_rng(0).normal(size=500)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mutual_information(x, x**2, n_bootstrap=10, random_state=0)
    assert {w.category for w in caught} & {MisspecificationWarning, DegenerateComponentWarning}


def test_rounded_continuous_data_have_no_point_mass():
    x, y = gaussian_pair(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mutual_information(np.round(x, 3), y, n_bootstrap=0, transform=None, random_state=0)


def test_a_variable_with_itself_warns_of_a_lower_bound():
    x, _ = gaussian_pair(500)
    with pytest.warns(DegenerateComponentWarning, match="lower bound set by reg_covar"):
        GMMMI(n_components=1, random_state=0).fit(x, x)


def test_near_deterministic_pair_warns():
    r = np.random.default_rng(0)
    x = r.normal(size=500)
    rho = 0.999999
    y = rho * x + math.sqrt(1 - rho**2) * r.normal(size=500)
    with pytest.warns(DegenerateComponentWarning, match="lower bound"):
        GMMMI(n_components=1, random_state=0).fit(x, y)


def test_entropy_of_duplicated_columns_warns_of_an_upper_bound():
    x, _ = gaussian_pair(500)
    with pytest.warns(DegenerateComponentWarning, match="upper bound"):
        entropy(np.column_stack([x, x]), n_components=1, n_bootstrap=0, random_state=0)


def test_clean_gaussian_pair_warns_nothing():
    x, y = gaussian_pair(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GMMMI(random_state=0).fit(x, y)


# ------------------------------------------------- small samples, overfitting
def test_categorical_small_sample_bias_is_corrected():
    data = datasets.CategoricalGaussian(freqs=[0.1] * 10, means=[0.0] * 10, sds=[1.0] * 10)
    for seed in range(2):
        x, labels = data.sample(1000, random_state=100 + seed)
        res = mutual_information(x, labels, discrete_y=True, n_bootstrap=30, random_state=seed)
        assert covers(res, 0.0), res.interval()
        assert res.info["bias_correction"].shape == (2,)


def test_categorical_bias_correction_keeps_dependence_covered():
    data = datasets.CategoricalGaussian(freqs=[0.1] * 10, means=list(np.linspace(-1, 1, 10)),
                                        sds=[1.0] * 10)
    x, labels = data.sample(1000, random_state=7)
    res = mutual_information(x, labels, discrete_y=True, n_bootstrap=30, random_state=0)
    assert covers(res, data.mi), (data.mi, res.interval())


def test_large_fixed_k_for_the_rows_warns():
    with pytest.warns(MisspecificationWarning, match=r"n_components=100.*overfits.*at most 16"):
        screen.check_fixed_components(500, 2, 100, "the data")   # 600 parameters, 500 rows
    x, y = gaussian_pair(60)
    with pytest.warns(MisspecificationWarning, match=r"n_components=4 .*60 rows"):
        GMMMI(n_components=4, n_bootstrap=0, random_state=0).fit(x, y)


def test_rows_repeated_whole_are_reported_not_called_discrete():
    x, y = gaussian_pair(400)
    with pytest.warns(MisspecificationWarning, match=r"1200 of 1600 rows repeat another row"):
        GMMMI(n_components=1, random_state=0).fit(np.tile(x, 4), np.tile(y, 4))


def test_entropy_draws_keep_the_scale_term_on_bounded_data():
    """Draws integrated in full (not near the fit) lacked the log-scale term of the
    standardisation: uniform(0, 5) read 1.24 ± 0.005 (log √12, the standardised
    entropy) around a point estimate of 1.61 (found by a hostile-user session)."""
    u = np.random.default_rng(11).uniform(0.0, 5.0, 1000)
    res = entropy(u, n_bootstrap=10, random_state=0)
    assert abs(np.median(res.draws) - res.point_estimate) < 0.1
    assert res.mean == pytest.approx(math.log(5.0), abs=0.05)   # 1.24 before the fix


def test_fully_masked_or_mismatched_masked_inputs_get_clear_errors():
    x, y = gaussian_pair(300)
    with pytest.raises(ValueError, match=r"every one of the 300 rows is masked in x"):
        mutual_information(np.ma.masked_all(300), y)
    short = np.ma.masked_array(x[:200], mask=np.arange(200) % 10 == 0)
    with pytest.raises(ValueError, match=r"x: 200, y: 300"):   # the rows passed, not kept
        mutual_information(short, y)


def test_discrete_columns_tied_by_an_exact_relation_are_refused():
    """An integer x and y = 2x + 1: five distinct rows, 200 copies each, is a discrete
    pair (MI log 5), not duplicated records; it read 1.46 with a false 'infinite MI'
    warning (found by a hostile-user session)."""
    x = np.random.default_rng(0).integers(0, 5, 1000) * 1.0
    with pytest.raises(ValueError, match=r"x has 5 distinct values"):
        mutual_information(x, 2 * x + 1, n_bootstrap=0, random_state=0)
    res = mutual_information(x, 2 * x + 1, discrete_x=True, discrete_y=True, n_bootstrap=50,
                             random_state=0)
    assert covers(res, math.log(5.0)), res.interval()


def test_boolean_or_string_labels_without_a_flag_are_told_the_flag():
    x, _ = gaussian_pair(200)
    with pytest.raises(TypeError, match=r"y must be a continuous.*boolean.*discrete_y=True"):
        mutual_information(x, x > 0)
    with pytest.raises(TypeError, match=r"x must hold real numbers.*discrete_x=True"):
        mutual_information(np.where(x > 0, "a", "b"), x)


def test_a_misspelt_categorical_name_is_reported_before_the_column_is_refused():
    table = pd.DataFrame({"x": np.random.default_rng(0).normal(size=300),
                          "i": np.random.default_rng(1).integers(0, 4, 300)})
    with pytest.raises(ValueError, match=r"categorical names columns that do not exist: \['I'\]"):
        mi_matrix(table, categorical="I", n_bootstrap=0)

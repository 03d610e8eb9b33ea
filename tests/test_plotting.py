"""Plot helpers: they draw what the results hold and return the axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayes_gmm_mi import MIResult  # noqa: E402
from bayes_gmm_mi.plotting import plot_mi_distributions  # noqa: E402


def _result(draws, method):
    return MIResult(point_estimate=0.4, draws=np.asarray(draws), units="nat", n_components=1,
                    method=method, mc_error=0.0, n_samples=100)


def test_overlay_draws_intervals_and_truth():
    rng = np.random.default_rng(0)
    res = {"bootstrap": _result(rng.normal(0.4, 0.02, 100), "bootstrap"),
           "mcmc": _result(rng.normal(0.42, 0.02, 400), "mcmc")}
    fig, ax = plt.subplots()
    out = plot_mi_distributions(res, truth=0.43, ax=ax, prob=0.9)
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["bootstrap (100 draws)", "mcmc (400 draws)"]
    assert any("truth 0.4300" in t for t in labels)
    # One interval bar per result, at its 90% percentile interval.
    bars = [line for line in ax.get_lines() if len(line.get_xdata()) == 2
            and line.get_xdata()[0] != line.get_xdata()[1]]
    assert len(bars) == 2
    np.testing.assert_allclose(bars[1].get_xdata(), np.percentile(res["mcmc"].draws, [5, 95]))
    assert "nats" in ax.get_xlabel()
    plt.close(fig)


def test_new_axes_when_none_given_and_error_without_draws():
    ax = plot_mi_distributions(_result(np.linspace(0, 1, 10), "vi"))
    assert ax is not None
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_mi_distributions([_result(np.empty(0), "bootstrap")])


# --------------------------------------------------------------- fit and selection
import copy  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.layout_engine import ConstrainedLayoutEngine  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402
from scipy.stats import multivariate_normal  # noqa: E402

from bayes_gmm_mi import GMMMI  # noqa: E402
from bayes_gmm_mi._validation import gaussianise_ranks  # noqa: E402
from bayes_gmm_mi.plotting import _mixture_density, plot_fit, plot_selection  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def two_clusters():
    rng = np.random.default_rng(3)
    a = rng.multivariate_normal([-3.0, -1.0], [[1.0, 0.5], [0.5, 1.0]], 200)
    b = rng.multivariate_normal([3.0, 2.0], [[0.5, -0.2], [-0.2, 1.5]], 200)
    data = np.concatenate([a, b])
    return data[:, 0], data[:, 1]


def _gmmmi(**kw):
    base = dict(n_bootstrap=0, random_state=0, mc_samples=1000)
    base.update(kw)
    return GMMMI(**base)


@pytest.fixture(scope="module")
def fitted(two_clusters):
    return _gmmmi(n_components=2).fit(*two_clusters)


@pytest.fixture(scope="module")
def selected_cv(two_clusters):
    return _gmmmi(n_components="auto", max_components=4).fit(*two_clusters)


@pytest.fixture(scope="module")
def selected_bic(two_clusters):
    return _gmmmi(n_components="auto", max_components=4, selection="bic").fit(*two_clusters)


def _ellipses(ax):
    return [p for p in ax.patches if isinstance(p, Ellipse)]


def _contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, bayes_gmm_mi.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mixture_density_matches_scipy():
    rng = np.random.default_rng(1)
    weights = np.array([0.3, 0.7])
    means = np.array([[0.0, 1.0], [2.0, -1.0]])
    covs = np.array([[[1.0, 0.3], [0.3, 0.5]], [[2.0, -0.9], [-0.9, 1.0]]])
    pts = rng.normal(size=(5, 7, 2)) * 2
    expected = sum(w * multivariate_normal(m, c).pdf(pts) for w, m, c in zip(weights, means, covs))
    np.testing.assert_allclose(_mixture_density(weights, means, covs, pts), expected, rtol=1e-10)


def test_plot_fit_one_ellipse_per_component_with_its_geometry(fitted, two_clusters):
    fig, ax = plt.subplots()
    n_sigma = 1.5
    out = plot_fit(fitted, *two_clusters, ax=ax, n_sigma=n_sigma)
    assert out is ax
    ellipses = _ellipses(ax)
    assert len(ellipses) == fitted.n_components_ == 2
    for e, mu, cov in zip(ellipses, fitted.means_, fitted.covariances_):
        np.testing.assert_allclose(e.center, mu)
        vals, vecs = np.linalg.eigh(cov)
        np.testing.assert_allclose(e.width, 2 * n_sigma * np.sqrt(vals[1]), rtol=1e-10)
        np.testing.assert_allclose(e.height, 2 * n_sigma * np.sqrt(vals[0]), rtol=1e-10)
        # The width runs along the major eigenvector: cov @ u = λ_max u.
        angle = np.radians(e.angle)
        u = np.array([np.cos(angle), np.sin(angle)])
        np.testing.assert_allclose(cov @ u, vals[1] * u, atol=1e-10 * vals[1])
    # The heavier component gets the thicker line.
    heavy, light = np.argmax(fitted.weights_), np.argmin(fitted.weights_)
    assert ellipses[heavy].get_linewidth() >= ellipses[light].get_linewidth()
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert "rank" not in ax.get_title()


def test_plot_fit_contours_cover_the_data_and_follow_the_density(fitted, two_clusters):
    x, y = two_clusters
    ax = plot_fit(fitted, x, y)
    assert isinstance(ax.figure.get_layout_engine(), ConstrainedLayoutEngine)
    (lo_x, hi_x), (lo_y, hi_y) = ax.get_xlim(), ax.get_ylim()
    assert lo_x < x.min() and hi_x > x.max() and lo_y < y.min() and hi_y > y.max()
    (cs,) = _contour_sets(ax)
    assert len(cs.levels) == 8
    gx, gy = np.meshgrid(np.linspace(lo_x, hi_x, 200), np.linspace(lo_y, hi_y, 200))
    grid = np.stack([gx, gy], axis=-1)
    density = sum(w * multivariate_normal(m, c).pdf(grid)
                  for w, m, c in zip(fitted.weights_, fitted.means_, fitted.covariances_))
    # Levels are fractions 0.001 ... 0.9 (geometric) of the mixture's peak on the grid.
    np.testing.assert_allclose(cs.levels, density.max() * np.geomspace(1e-3, 0.9, 8), rtol=1e-8)
    assert all(len(seg) for seg in cs.allsegs)  # every level is drawn
    # Explicit levels are passed through.
    ax2 = plot_fit(fitted, x, y, levels=[0.005, 0.02])
    np.testing.assert_allclose(_contour_sets(ax2)[0].levels, [0.005, 0.02])


def test_plot_fit_thins_points_reproducibly(fitted, two_clusters):
    x, y = two_clusters
    data = np.column_stack([x, y])

    def shown(seed, max_points):
        ax = plot_fit(fitted, x, y, max_points=max_points, random_state=seed)
        (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        return np.asarray(sc.get_offsets()), [t.get_text() for t in ax.get_legend().get_texts()]

    all_points, labels = shown(0, 5000)
    np.testing.assert_allclose(all_points, data)
    assert "data (400 points)" in labels
    a, labels = shown(0, 100)
    b, _ = shown(0, 100)
    c, _ = shown(1, 100)
    assert a.shape == (100, 2) and "data (100 of 400)" in labels
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rows = {tuple(r) for r in data}
    assert all(tuple(r) in rows for r in a)


def test_plot_fit_without_data_covers_the_components(fitted):
    ax = plot_fit(fitted)
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    sd = np.sqrt(np.diagonal(fitted.covariances_, axis1=1, axis2=2))
    lo, hi = (fitted.means_ - 4 * sd).min(axis=0), (fitted.means_ + 4 * sd).max(axis=0)
    np.testing.assert_allclose(ax.get_xlim(), [lo[0], hi[0]])
    np.testing.assert_allclose(ax.get_ylim(), [lo[1], hi[1]])
    assert len(_ellipses(ax)) == 2 and len(_contour_sets(ax)) == 1


def test_plot_fit_rank_transform_draws_normal_scores(two_clusters):
    x, y = two_clusters
    x = np.exp(x)  # heavy right tail: rank scores differ clearly from the raw data
    est = _gmmmi(n_components=2, transform="rank").fit(x, y)
    ax = plot_fit(est, x, y)
    assert "rank" in ax.get_title()
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(sc.get_offsets(), gaussianise_ranks(np.column_stack([x, y])))
    assert ax.get_xlim()[1] < 4.0  # normal scores of 400 ranks stay within ±3
    for e, mu in zip(_ellipses(ax), est.means_):
        np.testing.assert_allclose(e.center, mu)


def test_plot_fit_errors(fitted, two_clusters):
    x, y = two_clusters
    with pytest.raises(ValueError, match=r"not fitted yet; call fit\(x, y\) before plot_fit"):
        plot_fit(GMMMI())
    multi = copy.copy(fitted)
    multi.means_ = np.zeros((2, 3))
    multi.covariances_ = np.broadcast_to(np.eye(3), (2, 3, 3))
    with pytest.raises(ValueError, match=r"two scalar variables.*dimension 3"):
        plot_fit(multi)
    with pytest.raises(ValueError, match="same number of rows; got 400 and 399"):
        plot_fit(fitted, x, y[:-1])
    with pytest.raises(ValueError, match="both x and y"):
        plot_fit(fitted, x)
    with pytest.raises(ValueError, match="n_sigma"):
        plot_fit(fitted, n_sigma=0.0)


def test_plot_fit_refuses_a_fit_of_a_multivariate_block(two_clusters):
    x, y = two_clusters
    est = _gmmmi(n_components=1).fit(np.column_stack([x, x ** 2 + y]), y)
    with pytest.raises(ValueError, match=r"two scalar variables.*dimension 3"):
        plot_fit(est, x, y)


def _selection_lines(ax):
    curve = next(line for line in ax.get_lines() if line.get_label() == "score per K")
    marker = next(line for line in ax.get_lines() if line.get_label().startswith("chosen K"))
    vertical = [line for line in ax.get_lines()
                if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]
    return curve, marker, vertical


@pytest.mark.parametrize("which", ["cv", "bic"])
def test_plot_selection_scores_and_chosen_k(which, selected_cv, selected_bic):
    est = selected_cv if which == "cv" else selected_bic
    scores = est.selection_scores_
    assert len(scores) >= 2
    fig, ax = plt.subplots()
    assert plot_selection(est, ax=ax) is ax
    curve, marker, vertical = _selection_lines(ax)
    ks = sorted(scores)
    np.testing.assert_array_equal(curve.get_xdata(), ks)
    np.testing.assert_allclose(curve.get_ydata(), [scores[k] for k in ks])
    pick = max if which == "cv" else min
    best = pick(ks, key=lambda k: scores[k])
    np.testing.assert_array_equal(marker.get_xdata(), [best])
    np.testing.assert_allclose(marker.get_ydata(), [scores[best]])
    assert marker.get_marker() != curve.get_marker()
    assert len(vertical) == 1 and vertical[0].get_xdata()[0] == best
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"chosen K = {best}" in labels
    if which == "cv":
        assert "held-out log-likelihood" in ax.get_ylabel() and "higher" in ax.get_ylabel()
    else:
        assert "BIC" in ax.get_ylabel() and "lower" in ax.get_ylabel()
    assert best == 2 == est.n_components_  # two clear clusters


def test_plot_selection_replays_the_threshold_rule():
    # K=3 beats K=2 by less than the threshold: fit keeps K=2, and so does the plot.
    est = SimpleNamespace(selection_scores_={1: -3.0, 2: -2.0, 3: -1.9999}, selection="cv",
                          threshold=1e-3, n_components_=1)
    ax = plot_selection(est)
    _, marker, _ = _selection_lines(ax)
    np.testing.assert_array_equal(marker.get_xdata(), [2])
    assert "1 of 2 components kept" in ax.get_title()
    est_aic = SimpleNamespace(selection_scores_={1: 50.0, 2: 40.0, 3: 45.0}, selection="aic",
                              threshold=0.0, n_components_=2)
    ax = plot_selection(est_aic)
    _, marker, _ = _selection_lines(ax)
    np.testing.assert_array_equal(marker.get_xdata(), [2])
    assert "AIC" in ax.get_ylabel()


def test_plot_selection_errors(fitted):
    with pytest.raises(ValueError, match=r"not fitted yet; call fit\(x, y\) before plot_selection"):
        plot_selection(GMMMI())
    with pytest.raises(ValueError, match=r"no component selection was run.*n_components=2.*"
                                         r"n_components='auto'"):
        plot_selection(fitted)

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

"""Tests for the procedural data sets (bayes_gmm_mi._procedural).

The checks use quantities computed here independently of the module: the
analytic areas of the shapes, the lit-pixel centroid, the analytic NFW /
Einasto log-slopes, and the enclosed mass by numerical quadrature.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayes_gmm_mi.datasets as datasets
from bayes_gmm_mi.datasets import HaloProfiles, Sprites

RHO_CRIT = 2.775e11 * 0.7**2  # M_sun / Mpc^3, h = 0.7
EXTENT = 0.3  # documented: circumradius R = scale * 0.3 * size pixels


def _analytic_area(shape: str, radius: np.ndarray) -> np.ndarray:
    """Area (pixels^2) of a shape of circumradius ``radius`` (pixels)."""
    if shape == "square":  # side sqrt(2) R
        return 2.0 * radius**2
    if shape == "ellipse":  # semi-axes R and R/2
        return math.pi * radius * (radius / 2.0)
    side = math.sqrt(3.0) * radius  # equilateral triangle
    return math.sqrt(3.0) / 4.0 * side**2


def _max_abs_spearman(factors: pd.DataFrame) -> float:
    cols = {
        c: (factors[c].cat.codes if c == "shape" else factors[c]).to_numpy(float)
        for c in factors.columns
    }
    worst = 0.0
    for a, b in itertools.combinations(cols, 2):
        rho = stats.spearmanr(cols[a], cols[b]).statistic
        worst = max(worst, abs(float(rho)))
    return worst


# --------------------------------------------------------------------------- #
# Sprites
# --------------------------------------------------------------------------- #
def test_sprites_reexported():
    for name in ("Sprites", "HaloProfiles", "SPRITE_SHAPES", "HALO_PROFILES"):
        assert name in datasets.__all__
        assert hasattr(datasets, name)


def test_sprites_shapes_dtypes_ranges():
    sp = Sprites()
    images, factors = sp.sample(300, random_state=0)
    assert images.shape == (300, 32, 32)
    assert images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert images.max() == 1.0  # interiors are fully lit
    assert list(factors.columns) == list(sp.factor_names)
    assert isinstance(factors["shape"].dtype, pd.CategoricalDtype)
    assert list(factors["shape"].cat.categories) == ["square", "ellipse", "triangle"]
    assert set(factors["shape"]) == {"square", "ellipse", "triangle"}
    for col in ("scale", "rotation", "pos_x", "pos_y"):
        assert factors[col].dtype == np.float64
    assert factors["scale"].between(0.5, 1.0).all()
    # Default rotation range: one period of the square, [0, pi/2).
    assert sp.rotation_range == (0.0, math.pi / 2)
    rot = factors["rotation"]
    assert (rot >= 0).all() and (rot < math.pi / 2).all()
    for col in ("pos_x", "pos_y"):
        assert factors[col].between(0.0, 1.0).all()
    # Every sprite lies inside the image: the border is dark.
    border = np.concatenate(
        [images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1
    )
    assert border.max() == 0.0


def test_sprites_inside_image_at_extremes():
    sp = Sprites(size=16, supersample=2)
    corners = list(itertools.product([0.0, 1.0], [0.0, 1.0]))
    rot = np.linspace(0.0, 2 * math.pi, 13)
    for shape in sp.shapes:
        px = np.repeat([c[0] for c in corners], rot.size)
        py = np.repeat([c[1] for c in corners], rot.size)
        images = sp.render(shape, 1.0, np.tile(rot, len(corners)), px, py)
        assert images[:, 0, :].max() == 0.0 and images[:, -1, :].max() == 0.0
        assert images[:, :, 0].max() == 0.0 and images[:, :, -1].max() == 0.0


def test_sprites_reproducible():
    sp = Sprites(size=16)
    a_img, a_fac = sp.sample(50, random_state=3)
    b_img, b_fac = sp.sample(50, random_state=3)
    c_img, c_fac = sp.sample(50, random_state=4)
    np.testing.assert_array_equal(a_img, b_img)
    pd.testing.assert_frame_equal(a_fac, b_fac)
    assert not np.array_equal(a_img, c_img)
    assert not a_fac["scale"].equals(c_fac["scale"])
    # A Generator is advanced, not reset.
    rng = np.random.default_rng(0)
    d1, _ = sp.sample(5, random_state=rng)
    d2, _ = sp.sample(5, random_state=rng)
    assert not np.array_equal(d1, d2)


def test_sprites_factors_independent_and_uniform():
    _, factors = Sprites(size=8, supersample=1).sample(5000, random_state=1)
    assert _max_abs_spearman(factors) < 0.05
    counts = factors["shape"].value_counts().to_numpy()
    assert stats.chisquare(counts).pvalue > 1e-3
    lo, hi = 0.5, 1.0
    assert stats.kstest(factors["scale"], stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3
    assert stats.kstest(factors["pos_x"], "uniform").pvalue > 1e-3
    assert stats.kstest(
        factors["rotation"], stats.uniform(0.0, math.pi / 2).cdf
    ).pvalue > 1e-3
    # The rotation range is the same for every shape.
    for _, grp in factors.groupby("shape", observed=True):
        assert grp["rotation"].max() > 0.95 * math.pi / 2


def test_sprites_discrete_grid():
    sp = Sprites(size=8, supersample=1, n_levels=4)
    _, factors = sp.sample(2000, random_state=2)
    np.testing.assert_allclose(
        np.unique(factors["scale"]), np.linspace(0.5, 1.0, 4), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        np.unique(factors["pos_y"]), np.linspace(0.0, 1.0, 4), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        np.unique(factors["rotation"]),
        np.arange(4) * (math.pi / 2) / 4,
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize("shape", ["square", "ellipse", "triangle"])
def test_sprites_area_matches_analytic(shape):
    size = 32
    sp = Sprites(size=size)
    rng = np.random.default_rng(5)
    scale = np.repeat(np.linspace(0.5, 1.0, 6), 20)
    rot = rng.uniform(0.0, 2 * math.pi, scale.size)
    px, py = rng.uniform(0, 1, (2, scale.size))
    images = sp.render(shape, scale, rot, px, py)
    lit = images.sum(axis=(1, 2), dtype=np.float64)
    expected = _analytic_area(shape, scale * EXTENT * size)
    np.testing.assert_allclose(lit, expected, rtol=0.03)
    # Area grows as scale**2.
    slope = np.polyfit(np.log(scale), np.log(lit), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.03)


def test_sprites_small_sprites_in_large_image():
    # Small sprites are rasterised in a small window: area and centre hold.
    size = 64
    sp = Sprites(size=size, scale_range=(0.2, 0.4), supersample=2)
    images, factors = sp.sample(60, random_state=9)
    radius = factors["scale"].to_numpy() * EXTENT * size
    lit = images.sum(axis=(1, 2), dtype=np.float64)
    for shape in sp.shapes:
        sel = (factors["shape"] == shape).to_numpy()
        np.testing.assert_allclose(
            lit[sel], _analytic_area(shape, radius[sel]), rtol=0.05
        )
    m = 0.4 * EXTENT * size + 1.5
    w = images.astype(np.float64)
    cx = (w.sum(axis=1) * (np.arange(size) + 0.5)).sum(axis=1) / lit
    np.testing.assert_allclose(cx, m + factors["pos_x"] * (size - 2 * m), atol=0.1)


def test_sprites_centroid_follows_position():
    size = 32
    sp = Sprites(size=size)
    images, factors = sp.sample(600, random_state=6)
    w = images.astype(np.float64)
    centres = np.arange(size) + 0.5
    total = w.sum(axis=(1, 2))
    cx = (w.sum(axis=1) * centres).sum(axis=1) / total
    cy = (w.sum(axis=2) * centres).sum(axis=1) / total
    assert np.corrcoef(cx, factors["pos_x"])[0, 1] > 0.99
    assert np.corrcoef(cy, factors["pos_y"])[0, 1] > 0.99
    # The documented map: centre = m + pos * (size - 2 m).
    m = 1.0 * EXTENT * size + 1.5
    np.testing.assert_allclose(cx, m + factors["pos_x"] * (size - 2 * m), atol=0.1)
    np.testing.assert_allclose(cy, m + factors["pos_y"] * (size - 2 * m), atol=0.1)


@pytest.mark.parametrize(
    "shape, period",
    [("square", math.pi / 2), ("ellipse", math.pi), ("triangle", 2 * math.pi / 3)],
)
def test_sprites_rotational_symmetry(shape, period):
    sp = Sprites(size=32)
    a = sp.render(shape, 0.8, [0.3, 0.3 + period, 0.3 + period / 2], 0.4, 0.6)
    np.testing.assert_allclose(a[0], a[1], atol=1e-4)
    # Half a period is a different image.
    assert np.abs(a[0] - a[2]).max() > 0.5


def test_sprites_square_quarter_turn():
    sp = Sprites(size=32)
    a = sp.render("square", 0.9, [0.0, math.pi / 2], 0.5, 0.5)
    np.testing.assert_allclose(a[0], a[1], atol=1e-4)


def test_sprites_change_smoothly():
    # Anti-aliasing: a tiny change of a factor changes pixels only a little.
    sp = Sprites(size=32)
    for shape in sp.shapes:
        a = sp.render(shape, 0.7, [0.2, 0.201], 0.5, 0.5)
        diff = np.abs(a[0] - a[1])
        assert 0.0 < diff.max() < 0.05
        b = sp.render(shape, [0.7, 0.701], 0.2, 0.5, 0.5)
        assert 0.0 < np.abs(b[0] - b[1]).max() < 0.05


def test_sprites_orientation_conventions():
    sp = Sprites(size=32)
    ell = sp.render("ellipse", 1.0, 0.0, 0.5, 0.5)[0]
    assert ell.sum(axis=0).astype(bool).sum() > ell.sum(axis=1).astype(bool).sum()
    tri = sp.render("triangle", 1.0, 0.0, 0.5, 0.5)[0]
    rows = np.flatnonzero(tri.sum(axis=1) > 0)
    # Apex up: the top lit row is narrower than the bottom one.
    assert tri[rows[1]].sum() < tri[rows[-2]].sum()
    # Counter-clockwise as displayed: at +45 degrees the ellipse's long axis
    # runs from bottom-left to top-right.
    e45 = sp.render("ellipse", 1.0, math.pi / 4, 0.5, 0.5)[0]
    assert e45[10, 21] == 1.0 and e45[10, 10] == 0.0


def test_sprites_subset_of_shapes():
    sp = Sprites(size=16, shapes=("triangle",))
    assert sp.rotation_range == (0.0, 2 * math.pi / 3)
    _, factors = sp.sample(20, random_state=0)
    assert list(factors["shape"].cat.categories) == ["triangle"]
    assert Sprites(size=16, shapes="ellipse").shapes == ("ellipse",)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"shapes": ("square", "circle")},
            "unknown shape 'circle'; valid names are square, ellipse, triangle",
        ),
        ({"shapes": ()}, "shapes must not be empty"),
        ({"shapes": ("square", "square")}, "distinct"),
        ({"size": 0}, r"size must be an int >= 8; got 0"),
        ({"size": -32}, r"size must be an int >= 8; got -32"),
        ({"scale_range": (0.8, 0.5)}, r"low < high; got low=0.8, high=0.5"),
        ({"scale_range": (0.5, 0.5)}, r"low < high"),
        ({"scale_range": (0.0, 0.5)}, r"low > 0.0"),
        ({"scale_range": (0.5, 1.5)}, r"high <= 1.0"),
        ({"rotation_range": (1.0, 1.0)}, r"rotation_range must satisfy low < high"),
        ({"n_levels": 1}, r"n_levels must be an int >= 2; got 1"),
        ({"supersample": 0}, r"supersample must be an int >= 1"),
    ],
)
def test_sprites_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sprites(**kwargs)


def test_sprites_bad_sample_and_render_args():
    sp = Sprites(size=16, shapes=("square", "ellipse"))
    with pytest.raises(ValueError, match=r"n must be a positive int \(n >= 1\); got 0"):
        sp.sample(0)
    with pytest.raises(ValueError, match="got -5"):
        sp.sample(-5)
    with pytest.raises(TypeError, match="n must be a positive int"):
        sp.sample(10.0)
    msg = "unknown shape 'triangle'; valid names are square, ellipse"
    with pytest.raises(ValueError, match=msg):
        sp.render("triangle", 0.5, 0.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="scale must be > 0"):
        sp.render("square", 0.0, 0.0, 0.5, 0.5)
    with pytest.raises(TypeError, match="size must be an int"):
        Sprites(size=32.0)
    with pytest.raises(TypeError, match=r"scale_range must be a pair"):
        Sprites(scale_range=0.5)


# --------------------------------------------------------------------------- #
# Halo profiles
# --------------------------------------------------------------------------- #
def _log_slope(halos, r, lm=13.0, c=8.0, alpha=0.2, h=1e-4):
    lo = halos.profile_log_density(r * 10**-h, lm, c, alpha)[0]
    hi = halos.profile_log_density(r * 10**h, lm, c, alpha)[0]
    return (hi - lo) / (2 * h)


@pytest.mark.parametrize("profile", ["nfw", "einasto"])
def test_halos_shapes_dtypes_ranges(profile):
    halos = HaloProfiles(profile=profile)
    log_rho, factors = halos.sample(400, random_state=0)
    assert log_rho.shape == (400, 16) and log_rho.dtype == np.float64
    assert np.all(np.isfinite(log_rho))
    np.testing.assert_array_equal(halos.radii, np.logspace(-2, 0, 16))
    assert not halos.radii.flags.writeable
    assert list(factors.columns) == list(halos.factor_names)
    assert factors["log10_mass"].between(12, 15).all()
    assert factors["concentration"].between(4, 15).all()
    assert factors["alpha"].between(0.1, 0.3).all()
    assert all(factors[c].dtype == np.float64 for c in factors.columns)
    # The noise-free density falls with radius.
    clean, _ = HaloProfiles(profile=profile, noise=0.0).sample(400, random_state=0)
    assert np.all(np.diff(clean, axis=1) < 0)
    assert halos.null_factors == (("alpha",) if profile == "nfw" else ())


def test_halos_reproducible():
    halos = HaloProfiles(profile="einasto", radii=[0.05, 0.1, 0.5])
    a, fa = halos.sample(100, random_state=7)
    b, fb = halos.sample(100, random_state=7)
    c, fc = halos.sample(100, random_state=8)
    np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(fa, fb)
    assert not np.array_equal(a, c)
    assert not fa["alpha"].equals(fc["alpha"])


def test_halos_factors_independent():
    _, factors = HaloProfiles(radii=[0.1]).sample(5000, random_state=1)
    assert _max_abs_spearman(factors) < 0.05
    assert stats.kstest(
        factors["concentration"], stats.uniform(4.0, 11.0).cdf
    ).pvalue > 1e-3


@pytest.mark.parametrize("profile", ["nfw", "einasto"])
def test_halos_noise_is_gaussian_dex(profile):
    exact = HaloProfiles(profile=profile, noise=0.0)
    noisy = HaloProfiles(profile=profile, noise=0.05)
    clean, fac = exact.sample(2000, random_state=11)
    noisy_rho, fac2 = noisy.sample(2000, random_state=11)
    pd.testing.assert_frame_equal(fac, fac2)
    model = exact.profile_log_density(
        exact.radii, fac["log10_mass"], fac["concentration"], fac["alpha"]
    )
    np.testing.assert_allclose(clean, model, rtol=0, atol=1e-12)
    resid = (noisy_rho - clean).ravel()
    assert resid.std() == pytest.approx(0.05, rel=0.03)
    assert abs(resid.mean()) < 0.002


def test_nfw_asymptotic_slopes():
    halos = HaloProfiles(profile="nfw")
    lm, c = 13.0, 8.0
    r_s = float(halos.r200(lm)) / c
    assert _log_slope(halos, 1e-5 * r_s, lm, c) == pytest.approx(-1.0, abs=1e-3)
    assert _log_slope(halos, 1e5 * r_s, lm, c) == pytest.approx(-3.0, abs=1e-3)
    # At r = r_s the NFW slope is -(1 + 3x)/(1 + x) = -2.
    assert _log_slope(halos, r_s, lm, c) == pytest.approx(-2.0, abs=1e-6)


@pytest.mark.parametrize("alpha", [0.1, 0.17, 0.3])
def test_einasto_slope(alpha):
    halos = HaloProfiles(profile="einasto")
    lm, c = 14.0, 5.0
    r_s = float(halos.r200(lm)) / c
    for x in (0.01, 1.0, 3.0):
        expected = -2.0 * x**alpha
        assert _log_slope(halos, x * r_s, lm, c, alpha) == pytest.approx(
            expected, abs=1e-6
        )


def test_r200_encloses_200_rho_crit():
    halos = HaloProfiles()
    lm = np.array([12.0, 13.5, 15.0])
    r200 = halos.r200(lm)
    mean_density = 10**lm / (4.0 / 3.0 * math.pi * r200**3)
    np.testing.assert_allclose(mean_density, 200 * RHO_CRIT, rtol=1e-12)
    assert float(halos.r200(12.0)) == pytest.approx(0.206, abs=0.002)


@pytest.mark.parametrize(
    "profile, lm, c, alpha",
    [
        ("nfw", 12.0, 4.0, 0.2),
        ("nfw", 14.7, 15.0, 0.2),
        ("einasto", 12.0, 4.0, 0.1),
        ("einasto", 13.3, 9.0, 0.17),
        ("einasto", 15.0, 15.0, 0.3),
    ],
)
def test_enclosed_mass_normalisation(profile, lm, c, alpha):
    halos = HaloProfiles(profile=profile)
    r200 = float(halos.r200(lm))

    def integrand(t):  # r = r200 * t
        rho = 10.0 ** halos.profile_log_density(r200 * t, lm, c, alpha)[0, 0]
        return 4.0 * math.pi * (r200 * t) ** 2 * rho * r200

    mass, _ = integrate.quad(integrand, 0.0, 1.0, epsrel=1e-11, epsabs=0.0, limit=200)
    assert mass / 10**lm == pytest.approx(1.0, rel=1e-6)


def test_nfw_does_not_depend_on_alpha():
    halos = HaloProfiles(profile="nfw")
    r = halos.radii
    a = halos.profile_log_density(r, [12.5, 14.0], [5.0, 12.0], 0.1)
    b = halos.profile_log_density(r, [12.5, 14.0], [5.0, 12.0], [0.3, 0.25])
    np.testing.assert_array_equal(a, b)
    # Same seed stream, different alpha: identical data, different alpha.
    x1, f1 = HaloProfiles(profile="nfw", alpha_range=(0.1, 0.2)).sample(300, 5)
    x2, f2 = HaloProfiles(profile="nfw", alpha_range=(0.2, 0.3)).sample(300, 5)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(f1["log10_mass"], f2["log10_mass"])
    assert np.all(f1["alpha"] < f2["alpha"])
    # Einasto, by contrast, does depend on alpha.
    e1, _ = HaloProfiles(profile="einasto", alpha_range=(0.1, 0.2)).sample(300, 5)
    e2, _ = HaloProfiles(profile="einasto", alpha_range=(0.2, 0.3)).sample(300, 5)
    assert np.abs(e1 - e2).max() > 0.1


def test_profile_log_density_broadcasts():
    halos = HaloProfiles(profile="einasto")
    out = halos.profile_log_density([0.01, 0.1, 1.0], [12.0, 13.0], 6.0, 0.2)
    assert out.shape == (2, 3)
    assert halos.profile_log_density(0.1, 13.0, 6.0, 0.2).shape == (1, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"profile": "burkert"},
            "unknown profile 'burkert'; valid names are nfw, einasto",
        ),
        ({"profile": "NFW"}, r"valid names are nfw, einasto\. Did you mean 'nfw'\?"),
        ({"noise": -0.1}, r"noise must be >= 0 \(dex\); got -0.1"),
        (
            {"log10_mass_range": (15.0, 12.0)},
            r"log10_mass_range must satisfy low < high; got low=15.0, high=12.0",
        ),
        ({"concentration_range": (4.0, 4.0)}, r"must satisfy low < high"),
        ({"concentration_range": (0.0, 4.0)}, r"concentration_range must have low > 0"),
        ({"alpha_range": (0.3, 0.1)}, r"alpha_range must satisfy low < high"),
        ({"alpha_range": (-0.1, 0.1)}, r"alpha_range must have low > 0.0"),
        ({"radii": [0.1, -0.2]}, r"radii must be positive and finite"),
        ({"radii": []}, r"radii must be a non-empty 1-D array"),
    ],
)
def test_halos_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HaloProfiles(**kwargs)


def test_halos_bad_n():
    halos = HaloProfiles()
    with pytest.raises(ValueError, match=r"n must be a positive int \(n >= 1\); got 0"):
        halos.sample(0)
    with pytest.raises(TypeError, match="n must be a positive int"):
        halos.sample(2.5)
    with pytest.raises(TypeError, match="profile must be a string"):
        HaloProfiles(profile=None)

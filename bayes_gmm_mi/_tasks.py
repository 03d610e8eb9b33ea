"""Validation tasks with known mutual information (re-exported by ``datasets``).

This module adds to the bivariate data sets (:mod:`bayes_gmm_mi._bivariate`)
the tasks that they do not already cover:

- :class:`StudentT` -- bivariate Student t (heavy tails, closed-form MI);
- :class:`AdditiveUniformNoise` -- ``Y = X + N`` with uniform X and N (hard
  edges, closed-form MI);
- :class:`UniformDisk` -- (X, Y) uniform on a disk (uncorrelated, a hard
  circular edge; MI = log(pi) - 1);
- :class:`DiagonalBlocks` -- uniform squares on the diagonal with gaps
  between them (hard edges, discrete-looking; MI = log(levels));
- :class:`BimodalMarginal` -- a two-component Gaussian-mixture X observed
  through Gaussian noise (MI by one 1-D quadrature);
- :class:`CanonicalGaussian` -- multivariate Gaussian blocks with given
  canonical correlations, mixed within each block;
- :class:`CategoricalGaussian` -- string class labels with unequal
  frequencies and Gaussian class-conditional X (MI by one 1-D quadrature);
- :class:`Independent` -- MI = 0 controls;
- :class:`ValidationTask` -- a named task: a data set with ``.mi``,
  ``.discrete_y`` and ``.sample``. The names (the tasks here, the Gaussian,
  its monotone maps, gamma-exponential and ordered Weinman) are registered in
  :data:`bayes_gmm_mi._registry.VALIDATION_TASKS`.

All MI values are in nats. Every class is a frozen dataclass with an exact
``.mi`` (closed form, or a 1-D integral computed to about 1e-10) and
``.sample(n, random_state=None) -> (x, y)``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any

import numpy as np

from bayes_gmm_mi._bivariate import _gaussian_mi
from bayes_gmm_mi._data_checks import (
    _check_int,
    _check_n,
    _check_positive,
    _check_real,
    _check_reals,
    _check_rho,
    _check_unit_interval,
    _rng,
)

__all__ = [
    "INDEPENDENT_KINDS",
    "AdditiveUniformNoise",
    "BimodalMarginal",
    "CanonicalGaussian",
    "CategoricalGaussian",
    "DiagonalBlocks",
    "Independent",
    "StudentT",
    "UniformDisk",
    "ValidationTask",
]

_LOG_2PI_E = math.log(2.0 * math.pi * math.e)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _gaussian_mixture_logpdf(
    t: np.ndarray, weights: np.ndarray, means: np.ndarray, sds: np.ndarray
) -> np.ndarray:
    """Log density of a 1-D Gaussian mixture at ``t`` (any shape)."""
    from scipy.special import logsumexp

    t = np.asarray(t, dtype=np.float64)[..., None]
    z = (t - means) / sds
    comp = np.log(weights) - np.log(sds) - 0.5 * math.log(2.0 * math.pi) - 0.5 * z * z
    return logsumexp(comp, axis=-1)


def _gaussian_mixture_entropy(weights: Any, means: Any, sds: Any) -> float:
    """Differential entropy (nats) of a 1-D Gaussian mixture, by quadrature.

    ``h = -integral p(t) log p(t) dt`` over ``[min(mean - 40 sd),
    max(mean + 40 sd)]`` (the neglected tails hold less than 1e-300 of the
    mass), split at every component mean and at +-8 sd around it so that
    adaptive Gauss-Kronrod quadrature sees smooth, single-scale pieces.
    """
    from scipy.integrate import quad

    w = np.asarray(weights, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    s = np.asarray(sds, dtype=np.float64)
    lo = float(np.min(m - 40.0 * s))
    hi = float(np.max(m + 40.0 * s))
    knots = np.concatenate([[lo, hi], m, m - 8.0 * s, m + 8.0 * s])
    knots = np.unique(np.clip(knots, lo, hi))

    def integrand(t: float) -> float:
        lp = float(_gaussian_mixture_logpdf(np.asarray(t), w, m, s))
        return -math.exp(lp) * lp if lp > -745.0 else 0.0

    total = 0.0
    for a, b in zip(knots[:-1], knots[1:]):
        val, _ = quad(
            integrand, float(a), float(b), epsabs=1e-13, epsrel=1e-12, limit=200
        )
        total += val
    return total


# --------------------------------------------------------------------------- #
# Student t
# --------------------------------------------------------------------------- #
def _student_t_excess(dof: float) -> float:
    """MI of the bivariate t above the Gaussian part, ``f(nu)`` (nats).

    ``f(nu) = 2 lgamma(nu/2) + log(nu/2) - 2 lgamma((nu+1)/2)
    + (nu+1) (digamma((nu+1)/2) - digamma(nu/2)) - 1 - 2/nu``. For
    ``nu > 300``, where the direct form loses digits to cancellation (its
    absolute error reaches 1e-12 near nu = 1000), the asymptotic series
    ``1/(2 nu^2) - 1/(3 nu^3) - 1/(4 nu^4)`` replaces it (from
    ``lgamma(z + 1/2) - lgamma(z) = log(z)/2 - 1/(8z) + 1/(192 z^3) +
    O(z^-5)`` with ``z = nu/2``; truncation error about ``0.6 nu^-5 <
    3e-13``).
    """
    nu = dof
    if nu > 300.0:
        inv = 1.0 / nu
        return inv * inv * (0.5 - inv * (1.0 / 3.0 + 0.25 * inv))
    from scipy.special import digamma, gammaln

    return float(
        2.0 * gammaln(nu / 2.0)
        + math.log(nu / 2.0)
        - 2.0 * gammaln((nu + 1.0) / 2.0)
        + (nu + 1.0) * (digamma((nu + 1.0) / 2.0) - digamma(nu / 2.0))
        - 1.0
        - 2.0 / nu
    )


@dataclasses.dataclass(frozen=True)
class StudentT:
    """Bivariate Student t with correlation ``rho`` and ``dof`` degrees of freedom.

    ``(X, Y) = (Z1, Z2) / sqrt(W / nu)`` with ``(Z1, Z2)`` a standard bivariate
    normal of correlation ``rho`` and ``W ~ chi2(nu)`` independent of it: the
    bivariate t with location 0 and scale matrix ``[[1, rho], [rho, 1]]``.
    Both marginals are Student t with ``nu`` degrees of freedom (heavy
    tails; infinite variance for ``nu <= 2``).

    Parameters
    ----------
    rho : float, default 0.6
        Correlation parameter of the scale matrix, ``-1 < rho < 1``.
    dof : float, default 3.0
        Degrees of freedom ``nu > 0``.

    Notes
    -----
    With the entropy of a d-dimensional t with scale matrix ``S``,
    ``h_d = 0.5 log|S| + log(Gamma(nu/2) (nu pi)^(d/2) / Gamma((nu+d)/2))
    + (nu+d)/2 (digamma((nu+d)/2) - digamma(nu/2))``,
    ``I = 2 h_1 - h_2`` simplifies (with ``digamma(nu/2 + 1) - digamma(nu/2)
    = 2/nu``) to

    ``I(X; Y) = -0.5 log(1 - rho^2) + f(nu)``,

    ``f(nu) = 2 lgamma(nu/2) + log(nu/2) - 2 lgamma((nu+1)/2)
    + (nu+1) (digamma((nu+1)/2) - digamma(nu/2)) - 1 - 2/nu``.

    ``f`` is positive and decreases to 0 as ``1/(2 nu^2)`` (the asymptotic
    series is used for ``nu > 300``; absolute error below 1e-12): even at
    ``rho = 0`` X and Y are dependent (they share ``W``), so this is *not* an
    MI = 0 control. ``f(1) = 0.2242``, ``f(3) = 0.0424``, ``f(10) = 0.0046``.
    """

    rho: float = 0.6
    dof: float = 3.0

    name = "student-t"
    discrete_y = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_rho(self.rho))
        object.__setattr__(self, "dof", _check_positive("dof", self.dof))

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``-0.5 log(1 - rho^2) + f(dof)`` (see Notes)."""
        return _gaussian_mi(self.rho) + _student_t_excess(self.dof)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
        """
        n = _check_n(n)
        rng = _rng(random_state)
        z = rng.standard_normal((2, n))
        w = rng.chisquare(self.dof, size=n)
        with np.errstate(divide="ignore", over="ignore"):
            scale = np.sqrt(self.dof / w)
        r = self.rho
        x = z[0] * scale
        y = (r * z[0] + math.sqrt(1.0 - r * r) * z[1]) * scale
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# Additive uniform noise
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class AdditiveUniformNoise:
    """Uniform signal plus independent uniform noise (densities with hard edges).

    X ~ U(0, 1), N ~ U(0, epsilon) independent of X, and Y = X + N. The joint
    density is ``1/epsilon`` on the parallelogram ``0 < x < 1``,
    ``x < y < x + epsilon``; Y has a trapezoidal density on
    ``(0, 1 + epsilon)``.

    Parameters
    ----------
    epsilon : float, default 0.5
        Width of the noise interval, ``epsilon > 0``.

    Notes
    -----
    ``I(X; Y) = h(Y) - h(N)`` with ``h(N) = log(epsilon)``. For
    ``epsilon <= 1`` the trapezoid has two linear ramps of width epsilon
    (each contributing ``epsilon/4`` to ``h(Y)``) and a flat top of height 1
    (contributing 0); for ``epsilon >= 1`` the ramps have width 1 and the
    top has height ``1/epsilon``, which gives ``h(Y) = log(epsilon) +
    1/(2 epsilon)``. Hence

    ``I(X; Y) = epsilon/2 - log(epsilon)`` for ``epsilon <= 1``, and
    ``I(X; Y) = 1/(2 epsilon)`` for ``epsilon >= 1``

    (both 1/2 at ``epsilon = 1``; 0.9431 for the default 0.5).
    """

    epsilon: float = 0.5

    name = "uniform-noise"
    discrete_y = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", _check_positive("epsilon", self.epsilon))

    @property
    def mi(self) -> float:
        """Exact MI in nats (see Notes)."""
        e = self.epsilon
        if e <= 1.0:
            return 0.5 * e - math.log(e)
        return 0.5 / e

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
            ``x`` in [0, 1), ``y - x`` in [0, epsilon).
        """
        n = _check_n(n)
        rng = _rng(random_state)
        u = rng.random((2, n))
        x = u[0]
        y = x + self.epsilon * u[1]
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# Uniform disk
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class UniformDisk:
    """(X, Y) uniform on a disk: uncorrelated but dependent, with a hard circular edge.

    The joint density is ``1 / (pi radius^2)`` inside the disk
    ``x^2 + y^2 < radius^2`` and 0 outside. X and Y are uncorrelated
    (``E[XY] = 0``) yet dependent: the disk's edge bounds ``|Y|`` by
    ``sqrt(radius^2 - X^2)``.

    Parameters
    ----------
    radius : float, default 1.0
        Radius of the disk, ``radius > 0`` (a scale: the MI does not depend
        on it).

    Notes
    -----
    Write R for ``radius``. The joint entropy is that of a uniform density on
    an area ``pi R^2``: ``h(X, Y) = log(pi R^2)``. X has the semicircle
    density, the chord length over the area,
    ``p(x) = 2 sqrt(R^2 - x^2) / (pi R^2)`` on ``(-R, R)``. With
    ``x = R sin t`` (``dx = R cos t dt``, ``p = 2 cos t / (pi R)``):

    ``h(X) = -integral p log p dx
    = log(pi R / 2) - (2/pi) integral_{-pi/2}^{pi/2} cos^2 t log(cos t) dt
    = log(pi R / 2) - (4/pi) (pi/8 - (pi/4) log 2) = log(pi R) - 1/2``,

    using ``integral_0^{pi/2} cos^2 t log(cos t) dt = pi/8 - (pi/4) log 2``.
    Y has the same density, so

    ``I(X; Y) = h(X) + h(Y) - h(X, Y) = 2 log(pi R) - 1 - log(pi R^2)
    = log(pi) - 1``

    (0.14473 nats, for every R). Moments: ``E[X] = 0``,
    ``E[X^2] = R^2/4``, ``E[X^4] = R^4/8``, ``E[XY] = 0`` and
    ``E[X^2 Y^2] = R^4/24`` (not ``E[X^2] E[Y^2] = R^4/16``).
    """

    radius: float = 1.0

    name = "disk"
    discrete_y = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius", _check_positive("radius", self.radius))

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``log(pi) - 1`` (see Notes)."""
        return math.log(math.pi) - 1.0

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
            Points inside the disk of radius :attr:`radius` centred at 0.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        u = rng.random((2, n))
        # Polar coordinates: P(r < s) = (s / R)^2, so r = R sqrt(u); angle uniform.
        r = self.radius * np.sqrt(u[0])
        angle = 2.0 * math.pi * u[1]
        x = r * np.cos(angle)
        y = r * np.sin(angle)
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# Blocks on the diagonal
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class DiagonalBlocks:
    """Uniform squares on the diagonal, separated by gaps: looks discrete at a coarse scale.

    K is uniform on ``{0, 1, ..., levels - 1}``; U and V are ``U(0, width)``,
    independent of each other and of K; ``X = K + U`` and ``Y = K + V``. The
    joint density is ``1 / (levels * width^2)`` on the ``levels`` squares
    ``[k, k + width) x [k, k + width)`` and 0 elsewhere: clusters with hard
    edges, separated by empty gaps of width ``1 - width`` in each margin.

    Parameters
    ----------
    levels : int, default 5
        Number of blocks L, an int ``>= 2``.
    width : float, default 0.5
        Side w of each block, ``0 < width < 1`` (at ``width >= 1`` the
        blocks would touch or overlap and K would no longer be read off X).

    Notes
    -----
    Because ``w < 1``, ``K = floor(X) = floor(Y)``. X has density
    ``1 / (L w)`` on the union of the L intervals ``[k, k + w)``, so
    ``h(X) = log(L w)``. Given ``Y = y``, K is known (``floor(y)``) and
    ``X = K + U`` with U independent of (K, V), so ``X | Y = y`` is
    ``U(floor(y), floor(y) + w)`` and ``h(X | Y) = log(w)``. Hence

    ``I(X; Y) = h(X) - h(X | Y) = log(L w) - log(w) = log(L)``

    for every ``w`` in (0, 1) (1.6094 nats for L = 5): all the information
    is the shared discrete K (``I = H(K)``); equivalently the log density
    ratio ``log p(x, y) - log p(x) - log p(y)`` equals ``log L`` at every
    point of the support. Moments: ``E[X] = (L - 1)/2 + w/2``,
    ``var(X) = (L^2 - 1)/12 + w^2/12``, ``cov(X, Y) = var(K) = (L^2 - 1)/12``.
    """

    levels: int = 5
    width: float = 0.5

    name = "diagonal-blocks"
    discrete_y = False

    def __post_init__(self) -> None:
        levels = _check_int("levels", self.levels, 2)
        width = _check_real("width", self.width)
        if not 0.0 < width < 1.0:
            raise ValueError(
                f"width must be in (0, 1); got {width}. At width >= 1 the blocks "
                "touch or overlap (no gaps) and the MI is no longer log(levels)."
            )
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "width", width)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``log(levels)`` (see Notes)."""
        return math.log(self.levels)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
            ``floor(x) == floor(y)`` in ``{0, ..., levels - 1}``, and the
            fractional parts of both in ``[0, width)``.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        k = rng.integers(0, self.levels, size=n).astype(np.float64)
        u = rng.random((2, n))
        x = k + self.width * u[0]
        y = k + self.width * u[1]
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# Bimodal marginal
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class BimodalMarginal:
    """Bimodal X (two Gaussian modes) observed through Gaussian noise.

    X ~ (1 - weight) N(-mean, sd^2) + weight N(mean, sd^2) and
    Y = X + noise_sd * Z with Z ~ N(0, 1) independent of X, so Y is the
    mixture ``(1 - weight) N(-mean, s^2) + weight N(mean, s^2)`` with
    ``s^2 = sd^2 + noise_sd^2``.

    Parameters
    ----------
    mean : float, default 2.0
        Half the distance between the modes, ``mean > 0``.
    sd : float, default 0.5
        Standard deviation of each mode of X, ``sd > 0``.
    noise_sd : float, default 1.0
        Standard deviation of the additive noise, ``noise_sd > 0``.
    weight : float, default 0.5
        Probability of the mode at ``+mean``, ``0 < weight < 1``.

    Notes
    -----
    ``I(X; Y) = h(Y) - h(Y | X) = h(Y) - 0.5 log(2 pi e noise_sd^2)``, with
    ``h(Y)`` of the two-component mixture computed by adaptive quadrature of
    ``-p log p`` (absolute error about 1e-10). 0.7092 nats for the defaults.
    """

    mean: float = 2.0
    sd: float = 0.5
    noise_sd: float = 1.0
    weight: float = 0.5

    name = "bimodal"
    discrete_y = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", _check_positive("mean", self.mean))
        object.__setattr__(self, "sd", _check_positive("sd", self.sd))
        object.__setattr__(self, "noise_sd", _check_positive("noise_sd", self.noise_sd))
        object.__setattr__(self, "weight", _check_unit_interval("weight", self.weight))

    @property
    def mi(self) -> float:
        """MI in nats: ``h(Y) - 0.5 log(2 pi e noise_sd^2)``, h(Y) by quadrature."""
        s_y = math.hypot(self.sd, self.noise_sd)
        h_y = _gaussian_mixture_entropy(
            [1.0 - self.weight, self.weight], [-self.mean, self.mean], [s_y, s_y]
        )
        return h_y - 0.5 * _LOG_2PI_E - math.log(self.noise_sd)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
        """
        n = _check_n(n)
        rng = _rng(random_state)
        mode = rng.random(n) < self.weight
        z = rng.standard_normal((2, n))
        x = np.where(mode, self.mean, -self.mean) + self.sd * z[0]
        y = x + self.noise_sd * z[1]
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# Canonical correlations
# --------------------------------------------------------------------------- #
def _random_mixing(d: int, rng: np.random.Generator) -> np.ndarray:
    """A well-conditioned random invertible ``d x d`` matrix ``Q diag(s)``.

    Q is Haar-orthogonal (QR of a Gaussian matrix with the signs of R's
    diagonal fixed) and the scales s are log-uniform in [0.5, 2], so the
    condition number is at most 4.
    """
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    s = np.exp(rng.uniform(math.log(0.5), math.log(2.0), size=d))
    return q * s


@dataclasses.dataclass(frozen=True)
class CanonicalGaussian:
    """Multivariate Gaussian blocks X (dx) and Y (dy) with given canonical correlations.

    Latent standard normals U (dx) and V (dy) have ``corr(U_i, V_i) = rhos[i]``
    for ``i < len(rhos)`` and no other cross-correlation; then ``X = A U`` and
    ``Y = B V`` with fixed random invertible matrices A, B (drawn from
    ``mixing_seed``; see :attr:`mixing`), so the coordinates of X (and of Y)
    are correlated among themselves and the canonical pairs are hidden.

    Parameters
    ----------
    rhos : sequence of float, default (0.8, 0.4)
        Canonical correlations, each in (-1, 1); ``len(rhos) <= min(dx, dy)``
        (missing ones are 0; ``rhos=()`` gives a multivariate MI = 0 control).
    dx, dy : int, default 2
        Dimensions of X and Y, ``>= 1``.
    mixing_seed : int, default 0
        Seed of the mixing matrices; part of the distribution, not of a
        sample (``sample``'s ``random_state`` does not change A, B).

    Notes
    -----
    ``I(X; Y) = I(U; V) = -0.5 * sum_i log(1 - rhos[i]^2)`` (invertible maps
    within each block leave MI unchanged; the latent pairs are independent
    of one another). Equivalently ``0.5 (log|S_xx| + log|S_yy| - log|S|)``
    for the joint covariance ``S`` of :attr:`covariance`. 0.5980 nats for the
    defaults.
    """

    rhos: tuple[float, ...] = (0.8, 0.4)
    dx: int = 2
    dy: int = 2
    mixing_seed: int = 0

    name = "canonical"
    discrete_y = False

    def __post_init__(self) -> None:
        rhos = _check_reals("rhos", self.rhos, allow_empty=True)
        for i, r in enumerate(rhos):
            if not -1.0 < r < 1.0:
                raise ValueError(
                    f"rhos[{i}] must be in (-1, 1); got {r}. A canonical "
                    "correlation of +-1 has infinite mutual information."
                )
        dx = _check_int("dx", self.dx, 1)
        dy = _check_int("dy", self.dy, 1)
        if len(rhos) > min(dx, dy):
            raise ValueError(
                f"at most min(dx, dy) = {min(dx, dy)} canonical correlations "
                f"are possible; got {len(rhos)} (rhos={rhos})."
            )
        seed = _check_int("mixing_seed", self.mixing_seed, 0)
        object.__setattr__(self, "rhos", rhos)
        object.__setattr__(self, "dx", dx)
        object.__setattr__(self, "dy", dy)
        object.__setattr__(self, "mixing_seed", seed)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``-0.5 * sum(log(1 - rhos**2))``."""
        return float(sum(_gaussian_mi(r) for r in self.rhos))

    @property
    def mixing(self) -> tuple[np.ndarray, np.ndarray]:
        """The mixing matrices ``(A, B)`` of shapes (dx, dx) and (dy, dy)."""
        rng = np.random.default_rng(self.mixing_seed)
        return _random_mixing(self.dx, rng), _random_mixing(self.dy, rng)

    @property
    def covariance(self) -> np.ndarray:
        """Joint population covariance of ``(X, Y)``, shape (dx + dy, dx + dy)."""
        a, b = self.mixing
        c = np.zeros((self.dx, self.dy))
        k = len(self.rhos)
        c[np.arange(k), np.arange(k)] = self.rhos
        top = np.hstack([a @ a.T, a @ c @ b.T])
        bottom = np.hstack([b @ c.T @ a.T, b @ b.T])
        return np.vstack([top, bottom])

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x : ndarray of shape (n, dx), float64
        y : ndarray of shape (n, dy), float64
            Always 2-D, also when ``dx`` or ``dy`` is 1.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        z = rng.standard_normal((n, self.dx + self.dy))
        u = z[:, : self.dx]
        v = z[:, self.dx :].copy()
        k = len(self.rhos)
        r = np.asarray(self.rhos)
        v[:, :k] = r * u[:, :k] + np.sqrt(1.0 - r * r) * v[:, :k]
        a, b = self.mixing
        x = u @ a.T
        y = v @ b.T
        return np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, np.float64)


# --------------------------------------------------------------------------- #
# Categorical x continuous
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class CategoricalGaussian:
    """Continuous X with a Gaussian distribution in each of several labelled classes.

    The label C is ``labels[c]`` with probability ``freqs[c]``, and given
    C = c, ``X ~ N(means[c], sds[c]^2)``. :meth:`sample` returns
    ``(x, labels)``: the continuous variable first, the string labels second
    (use ``discrete_y=True`` with the estimator).

    Parameters
    ----------
    freqs : sequence of float, default (0.6, 0.3, 0.1)
        Class probabilities, each > 0, summing to 1 (within 1e-9); at least
        two classes.
    means : sequence of float, default (-1.0, 0.5, 2.0)
        Class means of X, one per class.
    sds : sequence of float, default (1.0, 0.5, 0.75)
        Class standard deviations of X, each > 0, one per class.
    labels : sequence of str or None, default None
        Distinct class names; ``None`` gives ``"a", "b", "c", ...``.

    Notes
    -----
    ``I(X; C) = h(X) - sum_c freqs[c] * 0.5 log(2 pi e sds[c]^2)``, with
    ``h(X)`` of the Gaussian mixture ``sum_c freqs[c] N(means[c], sds[c]^2)``
    computed by adaptive quadrature (absolute error about 1e-10). It is at
    most ``H(C) = -sum_c freqs[c] log freqs[c]``. 0.4996 nats for the
    defaults.
    """

    freqs: tuple[float, ...] = (0.6, 0.3, 0.1)
    means: tuple[float, ...] = (-1.0, 0.5, 2.0)
    sds: tuple[float, ...] = (1.0, 0.5, 0.75)
    labels: tuple[str, ...] | None = None

    name = "categorical"
    discrete_y = True

    def __post_init__(self) -> None:
        freqs = _check_reals("freqs", self.freqs, positive=True)
        means = _check_reals("means", self.means)
        sds = _check_reals("sds", self.sds, positive=True)
        k = len(freqs)
        if k < 2:
            raise ValueError(f"freqs must have at least 2 classes; got {k}.")
        total = math.fsum(freqs)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"freqs must sum to 1; got sum {total!r} for freqs={freqs}."
            )
        if len(means) != k or len(sds) != k:
            raise ValueError(
                f"freqs, means and sds must have the same length; got "
                f"{k}, {len(means)} and {len(sds)}."
            )
        labels = self.labels
        if labels is None:
            labels = tuple(_default_label(i) for i in range(k))
        else:
            if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
                raise TypeError(
                    f"labels must be a sequence of str or None; got {labels!r}."
                )
            labels = tuple(labels)
            bad = [v for v in labels if not isinstance(v, str)]
            if bad:
                raise TypeError(f"labels must all be str; got {bad[0]!r}.")
            if len(labels) != k:
                raise ValueError(
                    f"labels must have one name per class ({k}); got {len(labels)}."
                )
            if len(set(labels)) != k:
                raise ValueError(f"labels must be distinct; got {labels}.")
        object.__setattr__(self, "freqs", freqs)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "sds", sds)
        object.__setattr__(self, "labels", labels)

    @property
    def mi(self) -> float:
        """MI in nats: ``h(X) - sum_c p_c h(X | c)``, h(X) by quadrature."""
        h_x = _gaussian_mixture_entropy(self.freqs, self.means, self.sds)
        h_x_given_c = math.fsum(
            p * (0.5 * _LOG_2PI_E + math.log(s)) for p, s in zip(self.freqs, self.sds)
        )
        return h_x - h_x_given_c

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x : ndarray of shape (n,), float64
            The continuous variable.
        labels : ndarray of shape (n,), str
            The class label of each row.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        p = np.asarray(self.freqs) / math.fsum(self.freqs)
        c = rng.choice(len(p), size=n, p=p)
        z = rng.standard_normal(n)
        x = np.asarray(self.means)[c] + np.asarray(self.sds)[c] * z
        return x.astype(np.float64), np.asarray(self.labels)[c]


def _default_label(i: int) -> str:
    """``"a", ..., "z", "aa", "ab", ...`` for class index i."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    i += 1
    while i > 0:
        i, r = divmod(i - 1, 26)
        out = letters[r] + out
    return out


# --------------------------------------------------------------------------- #
# MI = 0 controls
# --------------------------------------------------------------------------- #
#: Kinds of :class:`Independent` control and what they draw.
INDEPENDENT_KINDS: dict[str, str] = {
    "gaussian": "X ~ N(0, 1), Y ~ N(0, 1)",
    "gamma-uniform": "X ~ Gamma(shape=2, scale=1), Y ~ U(0, 1)",
    "bimodal-student-t": "X ~ 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2), Y ~ t(3)",
}


@dataclasses.dataclass(frozen=True)
class Independent:
    """MI = 0 control: X and Y drawn independently.

    Parameters
    ----------
    kind : str, default "gaussian"
        ``"gaussian"``: X, Y ~ N(0, 1); ``"gamma-uniform"``:
        X ~ Gamma(shape=2, scale=1), Y ~ U(0, 1) (skewed and hard-edged);
        ``"bimodal-student-t"``: X ~ 0.5 N(-2, 0.25) + 0.5 N(2, 0.25),
        Y ~ Student t with 3 degrees of freedom (bimodal and heavy-tailed).

    Notes
    -----
    ``I(X; Y) = 0`` exactly (X and Y come from separate draws). Note that an
    *uncorrelated* bivariate t (:class:`StudentT` with ``rho=0``) is not
    independent and has MI > 0.
    """

    kind: str = "gaussian"

    discrete_y = False

    def __post_init__(self) -> None:
        kind = self.kind
        if not isinstance(kind, str):
            raise TypeError(
                f"kind must be a str, one of {list(INDEPENDENT_KINDS)}; got "
                f"{kind!r} of type {type(kind).__name__}."
            )
        if kind not in INDEPENDENT_KINDS:
            close = difflib.get_close_matches(kind, list(INDEPENDENT_KINDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown kind {kind!r}; valid kinds are "
                f"{', '.join(INDEPENDENT_KINDS)}.{hint}"
            )

    @property
    def name(self) -> str:
        """``"independent"`` or ``"independent-<kind>"``."""
        return "independent" if self.kind == "gaussian" else f"independent-{self.kind}"

    @property
    def mi(self) -> float:
        """Exact MI: 0.0."""
        return 0.0

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray of shape (n,), float64
        """
        n = _check_n(n)
        rng = _rng(random_state)
        if self.kind == "gaussian":
            x = rng.standard_normal(n)
            y = rng.standard_normal(n)
        elif self.kind == "gamma-uniform":
            x = rng.gamma(shape=2.0, scale=1.0, size=n)
            y = rng.random(n)
        else:  # "bimodal-student-t"
            x = np.where(rng.random(n) < 0.5, -2.0, 2.0) + 0.5 * rng.standard_normal(n)
            y = rng.standard_t(3.0, size=n)
        return x.astype(np.float64), y.astype(np.float64)


# --------------------------------------------------------------------------- #
# A named task
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class ValidationTask:
    """A named task of :data:`VALIDATION_TASKS`: a data set plus its metadata.

    Parameters
    ----------
    name : str
        The registry key.
    dataset : object
        Any data set with ``.mi`` and ``.sample(n, random_state)``.
    discrete_y : bool, default False
        True when the second array of :meth:`sample` holds class labels
        (pass ``discrete_y=True`` to the estimator).
    """

    name: str
    dataset: Any
    discrete_y: bool = False

    @property
    def mi(self) -> float:
        """The exact MI of :attr:`dataset` in nats."""
        return float(self.dataset.mi)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``dataset.sample(n, random_state)``: the pair ``(x, y)``.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        x, y : ndarray
            Shapes ``(n,)``, or ``(n, d)`` for multivariate tasks; ``y`` holds
            string labels when :attr:`discrete_y` is True.
        """
        return self.dataset.sample(n, random_state=random_state)

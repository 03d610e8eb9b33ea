"""The bivariate data sets with closed-form MI (re-exported by ``datasets``).

:class:`BivariateGaussian`, :class:`GammaExponential`, :class:`OrderedWeinman`
and :class:`TransformedGaussian` (with its marginal maps, :data:`TRANSFORMS`).
Their names are registered in :mod:`bayes_gmm_mi._registry`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bayes_gmm_mi._data_checks import _check_bool, _check_n, _check_positive, _check_rho, _rng

__all__ = [
    "TRANSFORMS",
    "BivariateGaussian",
    "GammaExponential",
    "OrderedWeinman",
    "TransformedGaussian",
]

# Euler-Mascheroni constant, gamma = -digamma(1).
_EULER_GAMMA = 0.57721566490153286060651209


def _gaussian_mi(rho: float) -> float:
    """MI (nats) of a bivariate normal with correlation ``rho``."""
    # -0.5 * log(1 - rho**2), written with log1p for accuracy at small rho.
    return -0.5 * math.log1p(-rho * rho)


def _standard_bivariate_normal(
    rho: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` pairs from the standard bivariate normal with correlation rho."""
    z = rng.standard_normal((2, n))
    x = z[0]
    y = rho * z[0] + math.sqrt(1.0 - rho * rho) * z[1]
    return np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(
        y, dtype=np.float64
    )


# --------------------------------------------------------------------------- #
# Data sets
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class BivariateGaussian:
    """Standard bivariate normal with correlation ``rho``.

    X ~ N(0, 1), Y ~ N(0, 1), corr(X, Y) = rho.

    Parameters
    ----------
    rho : float, default 0.6
        Correlation coefficient, ``-1 < rho < 1``.

    Notes
    -----
    ``I(X; Y) = -0.5 * log(1 - rho**2)`` nats.
    """

    rho: float = 0.6

    name = "gaussian"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_rho(self.rho))

    @property
    def mi(self) -> float:
        """Exact mutual information in nats: ``-0.5 * log(1 - rho**2)``."""
        return _gaussian_mi(self.rho)

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
        return _standard_bivariate_normal(self.rho, n, _rng(random_state))


@dataclasses.dataclass(frozen=True)
class GammaExponential:
    """Gamma-exponential pair.

    X ~ Gamma(shape=alpha, scale=1) and, given X = x, Y ~ Exponential(rate=x).
    The joint density is ``x**alpha * exp(-x * (1 + y)) / Gamma(alpha)`` for
    x, y > 0, and the marginal of Y is the Lomax density
    ``alpha * (1 + y)**-(alpha + 1)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Shape of the Gamma distribution of X, ``alpha > 0``.
    log : bool, default True
        If True, :meth:`sample` returns ``(log X, log Y)`` instead of
        ``(X, Y)``. MI is unchanged (monotone maps); the log makes the
        marginals much closer to Gaussian mixtures, as in the GMM-MI paper.

    Notes
    -----
    ``I(X; Y) = digamma(alpha) - log(alpha) + 1/alpha`` nats
    (``1 - euler_gamma = 0.42278`` for ``alpha = 1``). It follows from
    ``h(Y | X) = E[1 - log X] = 1 - digamma(alpha)`` and, for the Lomax
    marginal, ``h(Y) = 1 + 1/alpha - log(alpha)``.
    """

    alpha: float = 1.0
    log: bool = True

    name = "gamma-exponential"

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _check_positive("alpha", self.alpha))
        object.__setattr__(self, "log", _check_bool("log", self.log))

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``digamma(alpha) - log(alpha) + 1/alpha``."""
        a = self.alpha
        from scipy.special import digamma  # lazy: scipy.special is slow to import

        return float(digamma(a) - math.log(a) + 1.0 / a)

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
            ``(log X, log Y)`` if ``log`` else ``(X, Y)``. On the original
            scale, X underflows to 0 (and Y overflows) for very small alpha
            (roughly alpha < 0.02); the log scale stays finite.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        a = self.alpha
        if a < 1.0:
            # Gamma(a) = Gamma(a + 1) * U**(1/a), drawn in log space: for small
            # alpha, X underflows to 0 in float64 but log X stays finite.
            g = rng.gamma(shape=a + 1.0, scale=1.0, size=n)
            u = 1.0 - rng.random(size=n)  # in (0, 1]
            log_x = np.log(g) + np.log(u) / a
        else:
            log_x = np.log(rng.gamma(shape=a, scale=1.0, size=n))
        log_e = np.log(rng.standard_exponential(size=n))
        if self.log:
            # log Y = log E - log X (Y = E / X given X).
            return log_x.astype(np.float64), (log_e - log_x).astype(np.float64)
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(log_x), np.exp(log_e - log_x)


def _psi_minus_log(z: float) -> float:
    """``digamma(z) - log(z)`` for ``z >= 1``, accurate for very large z."""
    if math.isinf(z):
        return 0.0
    if z < 1e6:
        from scipy.special import digamma

        return float(digamma(z) - math.log(z))
    # Asymptotic series; the error of the truncation is O(z**-6) < 1e-36.
    zi2 = 1.0 / (z * z)
    return -0.5 / z - zi2 / 12.0 + zi2 * zi2 / 120.0


@dataclasses.dataclass(frozen=True)
class OrderedWeinman:
    """Ordered Weinman exponential pair (Darbellay & Vajda).

    Joint density, for ``0 < x < y``::

        p(x, y) = (2/theta0) exp(-2x/theta0) * (1/theta1) exp(-(y - x)/theta1)

    i.e. X ~ Exponential(rate a = 2/theta0) and Y = X + E with
    E ~ Exponential(rate b = 1/theta1) independent of X.

    Parameters
    ----------
    theta0 : float, default 1.0
        Twice the mean of X, ``theta0 > 0`` (E[X] = theta0 / 2).
    theta1 : float, default 1.0
        Mean of E = Y - X, ``theta1 > 0``.
    log : bool, default False
        If True, :meth:`sample` returns ``(log X, log Y)``.

    Notes
    -----
    ``I(X; Y) = h(Y) - h(E)`` with ``h(E) = 1 - log b`` and Y hypoexponential
    (density ``ab/(b-a) (exp(-a y) - exp(-b y))``). Writing ``lo = min(a, b)``,
    ``hi = max(a, b)`` and ``z = hi / (hi - lo)``, expanding
    ``log(1 - exp(-(hi - lo) y))`` as a power series and summing with the
    digamma function gives

    ``h(Y) = 1 + euler_gamma - log(lo) + digamma(z) - log(z)``,

    hence ``I(X; Y) = euler_gamma + log(b / lo) + digamma(z) - log(z)``.
    When ``a == b`` (``theta0 == 2 * theta1``), ``z = inf``,
    ``digamma(z) - log(z) -> 0``, Y ~ Gamma(2, 1/a) and ``I = euler_gamma``.
    MI depends on the parameters only through the ratio ``a / b``.
    """

    theta0: float = 1.0
    theta1: float = 1.0
    log: bool = False

    name = "weinman"

    def __post_init__(self) -> None:
        object.__setattr__(self, "theta0", _check_positive("theta0", self.theta0))
        object.__setattr__(self, "theta1", _check_positive("theta1", self.theta1))
        object.__setattr__(self, "log", _check_bool("log", self.log))

    @property
    def rate_x(self) -> float:
        """Rate ``a = 2 / theta0`` of the exponential X."""
        return 2.0 / self.theta0

    @property
    def rate_e(self) -> float:
        """Rate ``b = 1 / theta1`` of the exponential increment E = Y - X."""
        return 1.0 / self.theta1

    @property
    def mi(self) -> float:
        """Exact MI in nats (see the class Notes for the formula)."""
        a, b = self.rate_x, self.rate_e
        lo, hi = min(a, b), max(a, b)
        # z = hi / (hi - lo) = 1 / (1 - lo/hi); computed from the ratio so the
        # result only depends on a/b (scale invariance) and is exact at a == b.
        r = lo / hi
        z = math.inf if r >= 1.0 else 1.0 / (1.0 - r)
        return _EULER_GAMMA + math.log(b / lo) + _psi_minus_log(z)

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
            ``(log X, log Y)`` if ``log`` else ``(X, Y)``; always ``X < Y``.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        x = rng.exponential(scale=self.theta0 / 2.0, size=n)
        e = rng.exponential(scale=self.theta1, size=n)
        y = x + e
        if self.log:
            with np.errstate(divide="ignore"):
                return np.log(x).astype(np.float64), np.log(y).astype(np.float64)
        return x.astype(np.float64), y.astype(np.float64)


def _signed_power(t: np.ndarray) -> np.ndarray:
    return t * np.sqrt(np.abs(t))


def _exp(t: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(t)


def _normal_cdf(t: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # lazy: scipy.special is slow to import

    return ndtr(t)


def _sinh(t: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.sinh(t)


#: Strictly increasing maps available to :class:`TransformedGaussian`.
_TRANSFORM_FUNCS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda t: np.array(t, dtype=np.float64, copy=True),
    "sinh": _sinh,  # sinh(t): exponentially heavy tails on both sides
    "signed_power": _signed_power,  # t * |t|**0.5 = sign(t) |t|**1.5
    "cube": lambda t: t**3,  # t**3: heavy tails, flat near 0
    "normal_cdf": _normal_cdf,  # Phi(t): uniform on (0, 1)
    "exp": _exp,  # exp(t): log-normal, right-skewed
    "arcsinh": np.arcsinh,  # arcsinh(t): lighter (logarithmic) tails
}

#: Names of the transforms accepted by :class:`TransformedGaussian`.
TRANSFORMS: tuple[str, ...] = tuple(_TRANSFORM_FUNCS)


def _check_transform(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a str, one of {list(TRANSFORMS)}; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value not in _TRANSFORM_FUNCS:
        close = difflib.get_close_matches(value, TRANSFORMS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown {name} {value!r}; valid transforms are "
            f"{', '.join(TRANSFORMS)}.{hint}"
        )
    return value


@dataclasses.dataclass(frozen=True)
class TransformedGaussian:
    """Bivariate normal pushed through strictly increasing marginal maps.

    ``(X, Y) = (f(U), g(V))`` with ``(U, V)`` a standard bivariate normal of
    correlation ``rho``. The maps are invertible, so MI equals the Gaussian's.

    Parameters
    ----------
    rho : float, default 0.75
        Correlation of the underlying normal, ``-1 < rho < 1``.
    transform_x : str, default "sinh"
        Map applied to U. One of :data:`TRANSFORMS`:

        - ``"identity"``: ``t``
        - ``"sinh"``: ``sinh(t)`` (exponentially heavy tails)
        - ``"signed_power"``: ``t * |t|**0.5`` (= ``sign(t) |t|**1.5``)
        - ``"cube"``: ``t**3``
        - ``"normal_cdf"``: the standard normal CDF (uniform marginal)
        - ``"exp"``: ``exp(t)`` (log-normal marginal)
        - ``"arcsinh"``: ``arcsinh(t)`` (light, logarithmic tails)
    transform_y : str, default "signed_power"
        Map applied to V; same choices.

    Notes
    -----
    ``I(X; Y) = -0.5 * log(1 - rho**2)`` nats (0.4133 for the defaults).
    """

    rho: float = 0.75
    transform_x: str = "sinh"
    transform_y: str = "signed_power"

    name = "transformed-gaussian"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_rho(self.rho))
        _check_transform("transform_x", self.transform_x)
        _check_transform("transform_y", self.transform_y)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``-0.5 * log(1 - rho**2)``."""
        return _gaussian_mi(self.rho)

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
            ``transform_x(U)`` and ``transform_y(V)``.
        """
        n = _check_n(n)
        u, v = _standard_bivariate_normal(self.rho, n, _rng(random_state))
        x = _TRANSFORM_FUNCS[self.transform_x](u)
        y = _TRANSFORM_FUNCS[self.transform_y](v)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

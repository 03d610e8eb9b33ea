"""Bivariate data sets whose mutual information is known exactly.

Each data set is a small frozen dataclass with

- ``.mi`` -- the exact mutual information I(X; Y) in nats (closed form);
- ``.sample(n, random_state=None)`` -- ``(x, y)``, two float64 arrays of
  shape ``(n,)`` drawn from the joint distribution;
- ``.name`` -- a short identifier (the key used by :data:`DATASETS`).

They are meant for testing and benchmarking MI estimators. Mutual information
is invariant under an invertible (monotone) map of X alone or of Y alone, so
the ``log`` options and :class:`TransformedGaussian` change the shape of the
marginals without changing ``.mi``.

Examples
--------
>>> from bayes_gmm_mi.datasets import get_dataset
>>> ds = get_dataset("gaussian", rho=0.6)
>>> round(ds.mi, 4)
0.2231
>>> x, y = ds.sample(1000, random_state=0)
>>> x.shape, y.shape
((1000,), (1000,))
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from typing import Any, Callable

import numpy as np

__all__ = [
    "DATASETS",
    "TRANSFORMS",
    "BivariateGaussian",
    "GammaExponential",
    "OrderedWeinman",
    "TransformedGaussian",
    "get_dataset",
    # Validation tasks (defined in bayes_gmm_mi._tasks, re-exported below).
    "INDEPENDENT_KINDS",
    "VALIDATION_TASKS",
    "AdditiveUniformNoise",
    "BimodalMarginal",
    "CanonicalGaussian",
    "CategoricalGaussian",
    "Independent",
    "StudentT",
    "ValidationTask",
    "get_validation_task",
    # Procedural data sets with known generative factors (defined in
    # bayes_gmm_mi._procedural, re-exported below).
    "HALO_PROFILES",
    "SPRITE_SHAPES",
    "HaloProfiles",
    "Sprites",
]

# Euler-Mascheroni constant, gamma = -digamma(1).
_EULER_GAMMA = 0.57721566490153286060651209


# --------------------------------------------------------------------------- #
# Validation helpers
# --------------------------------------------------------------------------- #
def _rng(random_state: None | int | np.random.Generator) -> np.random.Generator:
    """Return a ``np.random.Generator`` for ``random_state``.

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator
        ``None`` gives fresh OS entropy, an int seeds a new generator, and a
        Generator is returned unchanged (so successive calls advance it).

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int or a numpy.random.Generator; "
            f"got {random_state!r} of type {type(random_state).__name__}."
        )
    if random_state < 0:
        raise ValueError(
            f"random_state must be a non-negative int; got {random_state}. "
            "Pass a seed >= 0 (or None, or a numpy.random.Generator)."
        )
    return np.random.default_rng(int(random_state))


def _check_n(n: Any) -> int:
    """Validate a sample size: a positive int (bool and float are rejected)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(
            f"n must be a positive int; got {n!r} of type {type(n).__name__}. "
            "Pass a whole number such as n=1000."
        )
    if n < 1:
        raise ValueError(f"n must be a positive int (n >= 1); got {n}.")
    return int(n)


def _check_real(name: str, value: Any) -> float:
    """Validate that ``value`` is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type "
            f"{type(value).__name__}."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    return value


def _check_positive(name: str, value: Any) -> float:
    """Validate that ``value`` is a finite real number > 0."""
    value = _check_real(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value}. Pass a positive number.")
    return value


def _check_bool(name: str, value: Any) -> bool:
    """Validate a boolean flag (numpy bools accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be True or False; got {value!r} of type "
            f"{type(value).__name__}."
        )
    return bool(value)


def _check_rho(rho: Any) -> float:
    rho = _check_real("rho", rho)
    if not -1.0 < rho < 1.0:
        raise ValueError(
            f"rho must be in (-1, 1); got {rho}. A correlation of exactly +-1 "
            "has infinite mutual information; use e.g. rho=0.99."
        )
    return rho


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


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #
#: Data set classes by command-line name.
DATASETS: dict[str, type] = {
    "gaussian": BivariateGaussian,
    "gamma-exponential": GammaExponential,
    "weinman": OrderedWeinman,
    "transformed-gaussian": TransformedGaussian,
}


def get_dataset(
    name: str, **params: Any
) -> BivariateGaussian | GammaExponential | OrderedWeinman | TransformedGaussian:
    """Instantiate a data set by name.

    Parameters
    ----------
    name : str
        One of the keys of :data:`DATASETS`: ``"gaussian"``,
        ``"gamma-exponential"``, ``"weinman"``, ``"transformed-gaussian"``.
    **params
        Keyword arguments of the data set's class (e.g. ``rho=0.9``).

    Returns
    -------
    BivariateGaussian, GammaExponential, OrderedWeinman or TransformedGaussian

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the valid names and the
        closest match), or a parameter value is invalid.
    TypeError
        If ``name`` is not a str, or a parameter is not accepted by the class.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str, one of {list(DATASETS)}; got {name!r} of type "
            f"{type(name).__name__}."
        )
    try:
        cls = DATASETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown dataset {name!r}; valid names are "
            f"{', '.join(DATASETS)}.{hint}"
        ) from None
    try:
        return cls(**params)
    except TypeError as err:
        if "unexpected keyword argument" in str(err):
            valid = [f.name for f in dataclasses.fields(cls)]
            raise TypeError(
                f"dataset {name!r} does not accept parameter(s) "
                f"{sorted(set(params) - set(valid))}; valid parameters are "
                f"{valid}."
            ) from None
        raise


# --------------------------------------------------------------------------- #
# Procedural data sets with known generative factors (bayes_gmm_mi._procedural)
# and validation tasks (bayes_gmm_mi._tasks). Imported last: both build on the
# classes and helpers above.
# --------------------------------------------------------------------------- #
from bayes_gmm_mi._procedural import (  # noqa: E402
    HALO_PROFILES,
    SPRITE_SHAPES,
    HaloProfiles,
    Sprites,
)
from bayes_gmm_mi._tasks import (  # noqa: E402
    INDEPENDENT_KINDS,
    VALIDATION_TASKS,
    AdditiveUniformNoise,
    BimodalMarginal,
    CanonicalGaussian,
    CategoricalGaussian,
    Independent,
    StudentT,
    ValidationTask,
    get_validation_task,
)

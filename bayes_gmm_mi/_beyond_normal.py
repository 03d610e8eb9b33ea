"""The benchmark tasks of Czyż et al. (2023), "Beyond Normal" (re-exported by ``datasets``).

P. Czyż, F. Grabowski, J. E. Vogt, N. Beerenwinkel and A. Marx, *Beyond Normal:
On the Evaluation of Mutual Information Estimators*, NeurIPS 2023
(arXiv:2306.11078). Their benchmark draws (X, Y) from distributions whose mutual
information is known exactly, mostly by pushing a multivariate normal or Student t
through maps that act on X and on Y separately and are invertible, which leaves
the MI unchanged: ``I(f(X); g(Y)) = I(X; Y)`` for injective, differentiable f, g.

The families, written here from the published definitions (none of the ``bmi``
package's code is used):

- :class:`MultinormalDense` -- all ``dx + dy`` coordinates equicorrelated
  (``off_diag = 0.5`` in the paper);
- :class:`MultinormalSparse` -- ``n_pairs`` correlated pairs ``(X_i, Y_i)``
  (the paper's "2-pair": two pairs of correlation 0.8), everything else
  independent;
- :class:`MultivariateStudentT` -- the multivariate t with ``dof`` degrees of
  freedom (identity dispersion in the paper): Gaussian part plus a closed-form
  correction in digamma and log-gamma functions of ``dof``, ``dx`` and ``dy``
  (:func:`student_t_mi_correction`);
- :class:`AdditiveNoise` -- ``Y = X + N``, X ~ U(0, 1), N ~ U(-epsilon, epsilon);
- :class:`BimodalGaussians` -- a bivariate normal copula with bimodal
  Gaussian-mixture marginals;
- :class:`SwissRoll` -- a uniform X (normal CDF of a normal) embedded in the
  plane as a Swiss roll, paired with a scalar Y;
- :class:`Transformed` -- any task above pushed through the coordinate-wise
  half-cube, asinh, normal-CDF or "wiggly" maps, or the "spiral"
  (a rotation by an angle that grows with the squared norm).

Every class is a frozen dataclass with integer ``dx`` and ``dy``, an exact ``.mi``
in nats and ``.sample(n, random_state=None) -> (x, y)`` returning float64 arrays
of shapes ``(n, dx)`` and ``(n, dy)`` -- always 2-D, also for the 1 x 1 tasks,
as in the paper. The named tasks of the suite are registered in
:data:`bayes_gmm_mi._registry.BEYOND_NORMAL_TASKS` (names ``"bn-..."``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from bayes_gmm_mi._bivariate import _gaussian_mi
from bayes_gmm_mi._data_checks import (
    _check_int,
    _check_n,
    _check_positive,
    _check_real,
    _rng,
)
from bayes_gmm_mi._tasks import AdditiveUniformNoise

__all__ = [
    "BN_TRANSFORMS",
    "AdditiveNoise",
    "BimodalGaussians",
    "MultinormalDense",
    "MultinormalSparse",
    "MultivariateStudentT",
    "SuiteEntry",
    "SwissRoll",
    "Transformed",
    "beyond_normal_suite",
    "student_t_mi_correction",
]

#: Citation of the benchmark, for tables and docstrings.
CITATION = (
    "Czyż, Grabowski, Vogt, Beerenwinkel & Marx (2023), Beyond Normal: On the "
    "Evaluation of Mutual Information Estimators, NeurIPS 2023 (arXiv:2306.11078)"
)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _log_det_equicorrelation(d: int, rho: float) -> float:
    """``log det`` of the d x d matrix with 1 on the diagonal and ``rho`` elsewhere.

    Its eigenvalues are ``1 + (d - 1) rho`` (once) and ``1 - rho`` (d - 1 times).
    """
    return (d - 1) * math.log1p(-rho) + math.log1p((d - 1) * rho)


def _equicorrelation_mi(dx: int, dy: int, rho: float) -> float:
    """MI of the Gaussian blocks of sizes dx, dy of an equicorrelated normal.

    ``0.5 (log|S_xx| + log|S_yy| - log|S|)``, each determinant in closed form.
    """
    return 0.5 * (
        _log_det_equicorrelation(dx, rho)
        + _log_det_equicorrelation(dy, rho)
        - _log_det_equicorrelation(dx + dy, rho)
    )


def _check_off_diag(name: str, value: Any, d: int) -> float:
    """Validate an equicorrelation in ``(-1 / (d - 1), 1)`` (positive definite)."""
    value = _check_real(name, value)
    low = -1.0 / (d - 1) if d > 1 else -math.inf
    if not low < value < 1.0:
        raise ValueError(
            f"{name} must be in ({low:.6g}, 1) for a positive-definite {d} x {d} "
            f"equicorrelation matrix; got {value}."
        )
    return value


def _equicorrelation_cholesky(d: int, rho: float) -> np.ndarray:
    cov = np.full((d, d), rho)
    np.fill_diagonal(cov, 1.0)
    return np.linalg.cholesky(cov)


def student_t_mi_correction(dof: float, dx: int, dy: int) -> float:
    """MI of a multivariate Student t above its Gaussian part (nats).

    For ``(X, Y)`` multivariate t with ``dof`` degrees of freedom and any
    dispersion matrix, ``I(X; Y) = I_gauss + c(dof, dx, dy)`` where
    ``I_gauss`` is the MI of the normal with that matrix as covariance and

    ``c = f(nu) - f(nu + dx) - f(nu + dy) + f(nu + dx + dy)``,
    ``f(a) = lgamma(a/2) - (a/2) digamma(a/2)``.

    Parameters
    ----------
    dof : float
        Degrees of freedom ``nu > 0``.
    dx, dy : int
        Dimensions of X and Y, ``>= 1``.

    Returns
    -------
    float
        ``c >= 0``; it decreases to 0 as ``dof`` grows (about
        ``dx dy / (2 nu^2)``). Absolute rounding error about ``1e-14 nu log nu``.

    Notes
    -----
    The entropy of a d-dimensional t with dispersion ``S`` is
    ``h_d = 0.5 log|S| + lgamma(nu/2) + (d/2) log(nu pi) - lgamma((nu+d)/2)
    + ((nu+d)/2) (digamma((nu+d)/2) - digamma(nu/2))``, and the marginals of a
    multivariate t are t with the same ``nu`` and the sub-matrices of ``S``.
    In ``I = h_dx + h_dy - h_(dx+dy)`` the log-determinants give the Gaussian
    MI, the ``(d/2) log(nu pi)`` terms cancel, and the coefficients of
    ``digamma(nu/2)`` add up to ``-(nu+dx)/2 - (nu+dy)/2 + (nu+dx+dy)/2 =
    -nu/2``, which leaves the four ``f`` terms above. For ``dx = dy = 1`` it is
    the correction of :class:`bayes_gmm_mi.datasets.StudentT`.
    """
    nu = _check_positive("dof", dof)
    dx = _check_int("dx", dx, 1)
    dy = _check_int("dy", dy, 1)
    from scipy.special import digamma, gammaln

    def f(a: float) -> float:
        return float(gammaln(a / 2.0) - (a / 2.0) * digamma(a / 2.0))

    return f(nu) - f(nu + dx) - f(nu + dy) + f(nu + dx + dy)


def _check_dims(dx: Any, dy: Any) -> tuple[int, int]:
    return _check_int("dx", dx, 1), _check_int("dy", dy, 1)


def _two_d(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(len(x), -1))


# --------------------------------------------------------------------------- #
# Multivariate normal
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class MultinormalDense:
    """Multivariate normal with every pair of the ``dx + dy`` coordinates correlated.

    ``(X, Y) ~ N(0, S)`` with ``S`` of size ``dx + dy``, 1 on the diagonal and
    ``off_diag`` everywhere else (within X, within Y and between them): the
    paper's "Multinormal (dense)" task (``off_diag = 0.5``; dimensions 2 x 2,
    3 x 3, 5 x 5, 25 x 25 and 50 x 50).

    Parameters
    ----------
    dx, dy : int, default 5
        Dimensions of X and Y, ``>= 1``.
    off_diag : float, default 0.5
        The common correlation, in ``(-1 / (dx + dy - 1), 1)`` (positive
        definite).

    Notes
    -----
    ``I(X; Y) = 0.5 (log|S_xx| + log|S_yy| - log|S|)`` with
    ``log|S_d| = (d - 1) log(1 - r) + log(1 + (d - 1) r)`` for the d x d
    equicorrelation matrix (eigenvalues ``1 + (d-1) r`` once, ``1 - r``
    ``d - 1`` times). With ``r = 0.5``: 0.1438 (1 x 1), 0.2939 (2 x 2), 0.4133
    (3 x 3), 0.5928 (5 x 5), 1.2922 (25 x 25), 1.6243 (50 x 50) nats.
    """

    dx: int = 5
    dy: int = 5
    off_diag: float = 0.5

    name: ClassVar[str] = "multinormal-dense"

    def __post_init__(self) -> None:
        dx, dy = _check_dims(self.dx, self.dy)
        object.__setattr__(self, "dx", dx)
        object.__setattr__(self, "dy", dy)
        object.__setattr__(
            self, "off_diag", _check_off_diag("off_diag", self.off_diag, dx + dy)
        )

    @property
    def mi(self) -> float:
        """Exact MI in nats (see Notes)."""
        return _equicorrelation_mi(self.dx, self.dy, self.off_diag)

    @property
    def covariance(self) -> np.ndarray:
        """The joint covariance ``S``, shape (dx + dy, dx + dy)."""
        d = self.dx + self.dy
        cov = np.full((d, d), self.off_diag)
        np.fill_diagonal(cov, 1.0)
        return cov

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
        """
        n = _check_n(n)
        rng = _rng(random_state)
        d = self.dx + self.dy
        z = rng.standard_normal((n, d)) @ _equicorrelation_cholesky(d, self.off_diag).T
        return _two_d(z[:, : self.dx]), _two_d(z[:, self.dx :])


@dataclasses.dataclass(frozen=True)
class MultinormalSparse:
    """Multivariate normal with a few correlated pairs ``(X_i, Y_i)`` ("2-pair").

    All ``dx + dy`` coordinates are standard normal; ``X_i`` and ``Y_i`` have
    correlation ``correlation`` for ``i < n_pairs``, and every other pair of
    coordinates is independent. The paper's "Multinormal (2-pair)" task is
    ``n_pairs = 2``, ``correlation = 0.8`` (a latent factor of strength 2 shared
    by ``X_i`` and ``Y_i``: ``X_i = (E_i + 2 Z_i) / sqrt 5``,
    ``Y_i = (F_i + 2 Z_i) / sqrt 5``, so ``corr = 4 / 5``), at 2 x 2, 3 x 3, 5 x 5
    and 25 x 25; the added coordinates carry no information.

    Parameters
    ----------
    dx, dy : int, default 5
        Dimensions of X and Y, ``>= n_pairs``.
    n_pairs : int, default 2
        Number of correlated pairs, ``1 <= n_pairs <= min(dx, dy)``.
    correlation : float, default 0.8
        Correlation of each pair, in (-1, 1).

    Notes
    -----
    The pairs are independent of one another, so
    ``I(X; Y) = -(n_pairs / 2) log(1 - correlation^2)``: 1.0217 nats for
    the 2-pair tasks at every dimension.
    """

    dx: int = 5
    dy: int = 5
    n_pairs: int = 2
    correlation: float = 0.8

    name: ClassVar[str] = "multinormal-sparse"

    def __post_init__(self) -> None:
        dx, dy = _check_dims(self.dx, self.dy)
        k = _check_int("n_pairs", self.n_pairs, 1)
        if k > min(dx, dy):
            raise ValueError(
                f"n_pairs must be at most min(dx, dy) = {min(dx, dy)}; got {k}."
            )
        r = _check_real("correlation", self.correlation)
        if not -1.0 < r < 1.0:
            raise ValueError(f"correlation must be in (-1, 1); got {r}.")
        object.__setattr__(self, "dx", dx)
        object.__setattr__(self, "dy", dy)
        object.__setattr__(self, "n_pairs", k)
        object.__setattr__(self, "correlation", r)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``n_pairs * (-0.5 log(1 - correlation^2))``."""
        return self.n_pairs * _gaussian_mi(self.correlation)

    @property
    def covariance(self) -> np.ndarray:
        """The joint covariance, shape (dx + dy, dx + dy)."""
        d = self.dx + self.dy
        cov = np.eye(d)
        idx = np.arange(self.n_pairs)
        cov[idx, self.dx + idx] = self.correlation
        cov[self.dx + idx, idx] = self.correlation
        return cov

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
        """
        n = _check_n(n)
        rng = _rng(random_state)
        x = rng.standard_normal((n, self.dx))
        y = rng.standard_normal((n, self.dy))
        k, r = self.n_pairs, self.correlation
        y[:, :k] = r * x[:, :k] + math.sqrt(1.0 - r * r) * y[:, :k]
        return _two_d(x), _two_d(y)


# --------------------------------------------------------------------------- #
# Multivariate Student t
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class MultivariateStudentT:
    """Multivariate Student t with ``dof`` degrees of freedom, split into X and Y.

    ``(X, Y) = Z / sqrt(W / dof)`` with ``Z ~ N(0, S)`` (``dx + dy``
    coordinates) and ``W ~ chi2(dof)`` independent of Z. The paper's
    "Student-t" tasks use the identity dispersion ``S = I`` (``off_diag = 0``):
    X and Y are then uncorrelated, yet dependent through the shared W, and the
    whole MI is the correction term. Paper tasks: 1 x 1 (dof 1), 2 x 2 (dof 1,
    2), 3 x 3 (dof 2, 3), 5 x 5 (dof 2, 3).

    Parameters
    ----------
    dx, dy : int, default 2
        Dimensions of X and Y, ``>= 1``.
    dof : float, default 1.0
        Degrees of freedom ``nu > 0`` (1: multivariate Cauchy).
    off_diag : float, default 0.0
        Off-diagonal entry of the equicorrelated dispersion ``S`` (0: identity,
        as in the paper), in ``(-1 / (dx + dy - 1), 1)``.

    Notes
    -----
    ``I(X; Y) = 0.5 (log|S_xx| + log|S_yy| - log|S|) + c(dof, dx, dy)`` with
    ``c`` of :func:`student_t_mi_correction`. With ``S = I``: 0.2242 (1 x 1,
    dof 1), 0.4319 (2 x 2, dof 1), 0.1931 (2 x 2, dof 2), 0.2909 (3 x 3, dof 2),
    0.1787 (3 x 3, dof 3), 0.4482 (5 x 5, dof 2), 0.2985 (5 x 5, dof 3) nats.
    """

    dx: int = 2
    dy: int = 2
    dof: float = 1.0
    off_diag: float = 0.0

    name: ClassVar[str] = "student-t"

    def __post_init__(self) -> None:
        dx, dy = _check_dims(self.dx, self.dy)
        object.__setattr__(self, "dx", dx)
        object.__setattr__(self, "dy", dy)
        object.__setattr__(self, "dof", _check_positive("dof", self.dof))
        object.__setattr__(
            self, "off_diag", _check_off_diag("off_diag", self.off_diag, dx + dy)
        )

    @property
    def mi(self) -> float:
        """Exact MI in nats: Gaussian part plus :func:`student_t_mi_correction`."""
        gauss = _equicorrelation_mi(self.dx, self.dy, self.off_diag)
        return gauss + student_t_mi_correction(self.dof, self.dx, self.dy)

    @property
    def dispersion(self) -> np.ndarray:
        """The dispersion (scale) matrix ``S``, shape (dx + dy, dx + dy)."""
        d = self.dx + self.dy
        s = np.full((d, d), self.off_diag)
        np.fill_diagonal(s, 1.0)
        return s

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
            Heavy-tailed: no finite variance for ``dof <= 2``.
        """
        n = _check_n(n)
        rng = _rng(random_state)
        d = self.dx + self.dy
        z = rng.standard_normal((n, d))
        if self.off_diag != 0.0:
            z = z @ _equicorrelation_cholesky(d, self.off_diag).T
        w = rng.chisquare(self.dof, size=n)
        with np.errstate(divide="ignore", over="ignore"):
            t = z * np.sqrt(self.dof / w)[:, None]
        return _two_d(t[:, : self.dx]), _two_d(t[:, self.dx :])


# --------------------------------------------------------------------------- #
# Additive uniform noise
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class AdditiveNoise:
    """Uniform X plus independent uniform noise: ``Y = X + N`` (the paper's parametrisation).

    ``X ~ U(0, 1)``, ``N ~ U(-epsilon, epsilon)`` independent of X. The paper's
    tasks "Uniform 1 x 1 (additive noise)" use ``epsilon = 0.1`` and 0.75. (The
    validation task :class:`bayes_gmm_mi.datasets.AdditiveUniformNoise` is the
    same family with noise ``U(0, width)``, ``width = 2 epsilon``.)

    Parameters
    ----------
    epsilon : float, default 0.75
        Half-width of the noise interval, ``epsilon > 0``.

    Notes
    -----
    ``I(X; Y) = h(Y) - h(N)`` with ``h(N) = log w``, ``w = 2 epsilon`` the
    width of the noise. Y has a trapezoidal density on ``(-epsilon, 1 +
    epsilon)``. For ``w <= 1``: two linear ramps of width w and a flat top of
    height 1; each ramp adds ``integral_0^w (t/w) log(w/t) dt = w/4`` to
    ``h(Y)`` and the top adds 0, so ``h(Y) = w/2``. For ``w >= 1``: ramps of
    width 1 up to the height ``1/w`` and a top of length ``w - 1``, which gives
    ``h(Y) = log w + 1/(2w)``. Hence

    ``I = epsilon - log(2 epsilon)`` for ``epsilon <= 1/2``, and
    ``I = 1 / (4 epsilon)`` for ``epsilon >= 1/2``

    (both 1/2 at ``epsilon = 1/2``): 1.7094 nats for 0.1, 0.3333 for 0.75.
    """

    epsilon: float = 0.75

    name: ClassVar[str] = "additive-noise"
    dx: ClassVar[int] = 1
    dy: ClassVar[int] = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", _check_positive("epsilon", self.epsilon))

    @property
    def mi(self) -> float:
        """Exact MI in nats (see Notes): the validation task's, noise width ``2 epsilon``."""
        return AdditiveUniformNoise(2.0 * self.epsilon).mi

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
        x, y : ndarray of shape (n, 1), float64
            ``x`` in [0, 1), ``y - x`` in [-epsilon, epsilon).
        """
        n = _check_n(n)
        rng = _rng(random_state)
        u = rng.random((2, n))
        x = u[0]
        y = x + self.epsilon * (2.0 * u[1] - 1.0)
        return _two_d(x), _two_d(y)


# --------------------------------------------------------------------------- #
# Bimodal marginals (Gaussian copula)
# --------------------------------------------------------------------------- #
def _mixture_quantile_of_normal(
    u: np.ndarray, weights: tuple, means: tuple, iterations: int = 64
) -> np.ndarray:
    """``F^-1(Phi(u))`` for a unit-variance Gaussian mixture F, by bisection.

    ``Phi(t - max(means)) <= F(t) <= Phi(t - min(means))``, so the root lies in
    ``[u + min(means), u + max(means)]``. The comparison is made in log space
    (``log F`` against ``log Phi(u)`` for ``u <= 0``, the survival functions
    ``log(1 - F)`` against ``log Phi(-u)`` for ``u > 0``), so it keeps full
    relative precision in both tails. 64 halvings of a bracket of width
    ``max(means) - min(means)`` leave an error below ``1e-18`` times that
    width: float64 rounding. The result is non-decreasing in u.
    """
    from scipy.special import log_ndtr

    u = np.asarray(u, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    log_w = np.log(np.asarray(weights, dtype=np.float64))
    lo = u + m.min()
    hi = u + m.max()
    upper = u > 0
    sign = np.where(upper, -1.0, 1.0)[:, None]
    target = log_ndtr(np.where(upper, -u, u))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        # log F(mid) where u <= 0, log(1 - F(mid)) where u > 0.
        val = np.logaddexp.reduce(log_ndtr(sign * (mid[:, None] - m)) + log_w, axis=-1)
        below = np.where(upper, val > target, val < target)  # F(mid) < Phi(u)
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


@dataclasses.dataclass(frozen=True)
class BimodalGaussians:
    """Bivariate normal copula with bimodal Gaussian-mixture marginals (the paper's "Bimodal").

    ``(U, V)`` standard bivariate normal with correlation ``correlation``;
    ``X = F_X^-1(Phi(U))`` and ``Y = F_Y^-1(Phi(V))`` with the mixtures
    ``F_X = 0.3 N(0, 1) + 0.7 N(5, 1)`` and ``F_Y = 0.5 N(-1, 1) + 0.5 N(3, 1)``
    (the marginal laws of the paper's task "Bimodal 1 x 1", correlation 0.75).

    Parameters
    ----------
    correlation : float, default 0.75
        Correlation of the underlying normal pair, in (-1, 1).

    Notes
    -----
    ``Phi`` and the mixture quantile functions are strictly increasing, so
    ``I(X; Y) = I(U; V) = -0.5 log(1 - correlation^2)`` exactly (0.4133 nats
    for 0.75). The quantile function has no closed form: :meth:`sample`
    inverts the mixture CDF by bisection to float64 rounding (see
    ``_mixture_quantile_of_normal``), which cannot change the MI beyond
    rounding. The test suite checks the MI independently by a 2-D quadrature
    of the joint density written in the observed coordinates (agreement to
    about 1e-4 nats on its grid).
    """

    correlation: float = 0.75

    name: ClassVar[str] = "bimodal"
    dx: ClassVar[int] = 1
    dy: ClassVar[int] = 1
    #: (weights, means) of the unit-variance mixtures of X and Y.
    MIXTURE_X: ClassVar[tuple[tuple[float, ...], tuple[float, ...]]] = ((0.3, 0.7), (0.0, 5.0))
    MIXTURE_Y: ClassVar[tuple[tuple[float, ...], tuple[float, ...]]] = ((0.5, 0.5), (-1.0, 3.0))

    def __post_init__(self) -> None:
        r = _check_real("correlation", self.correlation)
        if not -1.0 < r < 1.0:
            raise ValueError(f"correlation must be in (-1, 1); got {r}.")
        object.__setattr__(self, "correlation", r)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``-0.5 log(1 - correlation^2)``."""
        return _gaussian_mi(self.correlation)

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
        x, y : ndarray of shape (n, 1), float64
        """
        n = _check_n(n)
        rng = _rng(random_state)
        z = rng.standard_normal((2, n))
        r = self.correlation
        u = z[0]
        v = r * z[0] + math.sqrt(1.0 - r * r) * z[1]
        x = _mixture_quantile_of_normal(u, *self.MIXTURE_X)
        y = _mixture_quantile_of_normal(v, *self.MIXTURE_Y)
        return _two_d(x), _two_d(y)


# --------------------------------------------------------------------------- #
# Invertible maps
# --------------------------------------------------------------------------- #
def _half_cube(t: np.ndarray) -> np.ndarray:
    return t * np.sqrt(np.abs(t))


def _normal_cdf(t: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(t)


#: The "wiggly" maps ``t + sum_k a_k sin(w_k t + phi_k)`` of the paper, as
#: (a_k, w_k, phi_k) terms, one for X and one for Y. ``sum |a_k w_k|`` is 0.839
#: (X) and 0.467 (Y), below 1, so both derivatives stay positive: strictly
#: increasing, hence invertible.
WIGGLY_TERMS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "x": ((0.4, 1.0, 0.0), (0.2, 1.7, 1.0), (0.03, 3.3, -2.5)),
    "y": ((-0.4, 0.4, 0.0), (0.17, 1.3, 3.5), (0.02, 4.3, -2.5)),
}


def _wiggly(t: np.ndarray, which: str) -> np.ndarray:
    out = np.array(t, dtype=np.float64, copy=True)
    for a, w, phi in WIGGLY_TERMS[which]:
        out += a * np.sin(w * t + phi)
    return out


def _spiral(t: np.ndarray, plane: tuple[int, int], speed: float) -> np.ndarray:
    """Rotate each row in the (i, j) plane by the angle ``speed * |row|^2``.

    This is ``exp(speed |x|^2 A) x`` with A the generator of rotations in that
    plane. A rotation keeps the norm, so the inverse rotates by
    ``-speed |y|^2``: the map is a diffeomorphism of R^d.
    """
    i, j = plane
    theta = speed * np.sum(t * t, axis=1)
    c, s = np.cos(theta), np.sin(theta)
    out = np.array(t, dtype=np.float64, copy=True)
    out[:, i] = c * t[:, i] - s * t[:, j]
    out[:, j] = s * t[:, i] + c * t[:, j]
    return out


#: Transforms of :class:`Transformed` and what they do (applied to X and to Y).
BN_TRANSFORMS: dict[str, str] = {
    "half_cube": "t * sqrt(|t|) in each coordinate (heavier tails)",
    "asinh": "asinh(t) in each coordinate (lighter, logarithmic tails)",
    "normal_cdf": "the standard normal CDF in each coordinate (uniform margins)",
    "wiggly": "t + sum_k a_k sin(w_k t + phi_k) in each coordinate (WIGGLY_TERMS)",
    "spiral": "rotation of X in its (0, 1) plane and of Y in its (1, 2) plane by "
    "the angle speed * |row|^2",
}


@dataclasses.dataclass(frozen=True)
class Transformed:
    """A task pushed through one of the paper's invertible maps, applied to X and to Y.

    Parameters
    ----------
    base : data set
        Any task of this module (or anything with ``dx``, ``dy``, ``mi`` and
        ``sample`` returning 2-D arrays), including another
        :class:`Transformed` (e.g. the paper's "Spiral @ Normal CDF @ ...").
    transform : str
        One of :data:`BN_TRANSFORMS`: ``"half_cube"``, ``"asinh"``,
        ``"normal_cdf"``, ``"wiggly"`` or ``"spiral"``.
    speed : float, default 1/3
        Speed v of the spiral (ignored by the other maps): the angle of
        rotation is ``v |x|^2``. The spiral needs ``dx >= 2`` and ``dy >= 3``
        (X turns in its first two coordinates, Y in its second and third).

    Notes
    -----
    Each map is a diffeomorphism of X's (and Y's) space onto its image,
    applied to X and Y separately, so ``I(f(X); g(Y)) = I(X; Y)``:
    ``.mi`` is the base task's. The coordinate-wise maps are strictly increasing
    (the wiggly maps because ``sum |a_k w_k| < 1``), and the spiral keeps the
    norm, so it is undone by the opposite rotation.
    """

    base: Any
    transform: str
    speed: float = 1.0 / 3.0

    def __post_init__(self) -> None:
        for attr in ("mi", "sample", "dx", "dy"):
            if not hasattr(self.base, attr):
                raise TypeError(
                    f"base must be a task with .dx, .dy, .mi and .sample; "
                    f"{type(self.base).__name__} has no .{attr}."
                )
        if not isinstance(self.transform, str):
            raise TypeError(
                f"transform must be a str, one of {list(BN_TRANSFORMS)}; got "
                f"{self.transform!r} of type {type(self.transform).__name__}."
            )
        if self.transform not in BN_TRANSFORMS:
            close = difflib.get_close_matches(self.transform, list(BN_TRANSFORMS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown transform {self.transform!r}; valid transforms are "
                f"{', '.join(BN_TRANSFORMS)}.{hint}"
            )
        object.__setattr__(self, "speed", _check_positive("speed", self.speed))
        if self.transform == "spiral" and (self.base.dx < 2 or self.base.dy < 3):
            raise ValueError(
                f"the spiral needs dx >= 2 and dy >= 3 (it turns X in its (0, 1) plane "
                f"and Y in its (1, 2) plane); got dx={self.base.dx}, dy={self.base.dy}."
            )

    @property
    def dx(self) -> int:
        """Dimension of X (the base task's)."""
        return int(self.base.dx)

    @property
    def dy(self) -> int:
        """Dimension of Y (the base task's)."""
        return int(self.base.dy)

    @property
    def name(self) -> str:
        """``"<transform>@<base name>"``."""
        return f"{self.transform.replace('_', '-')}@{self.base.name}"

    @property
    def mi(self) -> float:
        """Exact MI in nats: the base task's (invariance under invertible maps)."""
        return float(self.base.mi)

    def apply(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the map to base-task arrays ``x`` (n, dx) and ``y`` (n, dy).

        Parameters
        ----------
        x, y : ndarray
            Arrays of the base task, 2-D.

        Returns
        -------
        x, y : ndarray, float64, same shapes
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        t = self.transform
        if t == "half_cube":
            fx, fy = _half_cube(x), _half_cube(y)
        elif t == "asinh":
            fx, fy = np.arcsinh(x), np.arcsinh(y)
        elif t == "normal_cdf":
            fx, fy = _normal_cdf(x), _normal_cdf(y)
        elif t == "wiggly":
            fx, fy = _wiggly(x, "x"), _wiggly(y, "y")
        else:  # "spiral"
            fx, fy = _spiral(x, (0, 1), self.speed), _spiral(y, (1, 2), self.speed)
        return _two_d(fx), _two_d(fy)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples: the base task's, then the map.

        Parameters
        ----------
        n : int
            Number of samples, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays (and the
            same underlying base sample as ``base.sample(n, random_state)``).

        Returns
        -------
        x : ndarray of shape (n, dx), float64
        y : ndarray of shape (n, dy), float64
        """
        n = _check_n(n)
        x, y = self.base.sample(n, random_state=random_state)
        return self.apply(_two_d(x), _two_d(y))


# --------------------------------------------------------------------------- #
# Swiss roll
# --------------------------------------------------------------------------- #
def swiss_roll(u: np.ndarray) -> np.ndarray:
    """The paper's Swiss-roll embedding of ``u`` in [0, 1] into the plane.

    ``t = 1.5 pi (1 + 2u)`` and ``(t cos t, t sin t) / 21``. The distance to
    the origin, ``t / 21``, is strictly increasing in u, so the map is
    injective (``u = (21 |p| / (1.5 pi) - 1) / 2``).

    Parameters
    ----------
    u : ndarray of shape (n,)

    Returns
    -------
    ndarray of shape (n, 2)
    """
    t = 1.5 * math.pi * (1.0 + 2.0 * np.asarray(u, dtype=np.float64))
    return np.column_stack([t * np.cos(t), t * np.sin(t)]) / 21.0


@dataclasses.dataclass(frozen=True)
class SwissRoll:
    """A uniform X rolled into the plane and a uniform Y: the paper's "Swiss roll 2 x 1".

    ``(U, V)`` standard bivariate normal with correlation ``correlation``;
    ``X = swiss_roll(Phi(U))`` (2-D) and ``Y = Phi(V)`` (1-D, uniform).

    Parameters
    ----------
    correlation : float, default 0.75
        Correlation of the underlying normal pair, in (-1, 1).

    Notes
    -----
    ``Phi`` is strictly increasing and :func:`swiss_roll` is injective and
    smooth, so ``I(X; Y) = I(U; V) = -0.5 log(1 - correlation^2)`` (0.4133
    nats for 0.75). X has no density on the plane (it lies on a curve), which
    is the point of the task: a density-based estimator in two dimensions
    sees a degenerate distribution.
    """

    correlation: float = 0.75

    name: ClassVar[str] = "swiss-roll"
    dx: ClassVar[int] = 2
    dy: ClassVar[int] = 1

    def __post_init__(self) -> None:
        r = _check_real("correlation", self.correlation)
        if not -1.0 < r < 1.0:
            raise ValueError(f"correlation must be in (-1, 1); got {r}.")
        object.__setattr__(self, "correlation", r)

    @property
    def mi(self) -> float:
        """Exact MI in nats: ``-0.5 log(1 - correlation^2)``."""
        return _gaussian_mi(self.correlation)

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
        x : ndarray of shape (n, 2), float64
            Points on the Swiss roll.
        y : ndarray of shape (n, 1), float64
            In (0, 1).
        """
        n = _check_n(n)
        rng = _rng(random_state)
        z = rng.standard_normal((2, n))
        r = self.correlation
        u = z[0]
        v = r * z[0] + math.sqrt(1.0 - r * r) * z[1]
        return _two_d(swiss_roll(_normal_cdf(u))), _two_d(_normal_cdf(v))


# --------------------------------------------------------------------------- #
# The suite
# --------------------------------------------------------------------------- #
class SuiteEntry(NamedTuple):
    """One task of the benchmark suite.

    Attributes
    ----------
    name : str
        Registry name (``"bn-..."``).
    factory : callable
        Zero-argument callable returning the data set.
    paper_name : str
        The task's name in Czyż et al. (2023), or ``""`` for an extension
        that is not in the paper.
    how : str
        How the exact MI is computed.
    """

    name: str
    factory: Callable[[], Any]
    paper_name: str
    how: str


def _binormal() -> MultinormalDense:
    # The paper's bivariate normal 1 x 1 has correlation 0.75.
    return MultinormalDense(1, 1, off_diag=0.75)


def _two_pair(d: int) -> MultinormalSparse:
    return MultinormalSparse(d, d, n_pairs=2, correlation=0.8)


def _student(d: int, dof: float) -> MultivariateStudentT:
    return MultivariateStudentT(d, d, float(dof))


def _map(transform: str, make: Callable[..., Any], *args: Any) -> Transformed:
    return Transformed(make(*args), transform)


def _spiral_cdf_two_pair(d: int) -> Transformed:
    return Transformed(Transformed(_two_pair(d), "normal_cdf"), "spiral")


def beyond_normal_suite() -> tuple[SuiteEntry, ...]:
    """The named tasks of the benchmark suite (in the order of the authors' configuration).

    The 39 tasks of the paper's benchmark (Czyż et al. 2023) plus a few
    extensions (``paper_name == ""``): the 1 x 1 dense normal, additive noise
    with ``epsilon = 0.1`` and Student t with 5 degrees of freedom.

    Returns
    -------
    tuple of SuiteEntry
    """
    gauss = "closed form: 0.5 (log det S_xx + log det S_yy - log det S)"
    invariant = "invariance under invertible maps: MI of the base task ({})"
    student = "closed form: Gaussian part + c(dof, dx, dy) (digamma / log-gamma)"
    entries: list[SuiteEntry] = [
        SuiteEntry("bn-binormal-1x1", _binormal, "Bivariate Normal 1 × 1",
                   "closed form: -0.5 log(1 - 0.75^2)"),
        SuiteEntry("bn-normal-cdf-binormal-1x1",
                   lambda: Transformed(_binormal(), "normal_cdf"),
                   "Normal CDF @ Bivariate Normal 1 × 1", invariant.format("binormal")),
        SuiteEntry("bn-additive-noise-1x1-eps0.75", lambda: AdditiveNoise(0.75),
                   "Uniform 1 × 1 (additive noise=0.75)",
                   "closed form: 1 / (4 epsilon)"),
        SuiteEntry("bn-additive-noise-1x1-eps0.1", lambda: AdditiveNoise(0.1), "",
                   "closed form: epsilon - log(2 epsilon)"),
        SuiteEntry("bn-bimodal-1x1", lambda: BimodalGaussians(0.75), "Bimodal 1 × 1",
                   "invariance (Gaussian copula, correlation 0.75); checked by 2-D "
                   "quadrature"),
        SuiteEntry("bn-wiggly-binormal-1x1", lambda: Transformed(_binormal(), "wiggly"),
                   "Wiggly @ Bivariate Normal 1 × 1", invariant.format("binormal")),
        SuiteEntry("bn-half-cube-binormal-1x1",
                   lambda: Transformed(_binormal(), "half_cube"),
                   "Half-cube @ Bivariate Normal 1 × 1", invariant.format("binormal")),
        SuiteEntry("bn-student-t-1x1-dof1", lambda: MultivariateStudentT(1, 1, 1.0),
                   "Student-t 1 × 1 (dof=1)", student),
        SuiteEntry("bn-asinh-student-t-1x1-dof1",
                   lambda: Transformed(MultivariateStudentT(1, 1, 1.0), "asinh"),
                   "Asinh @ Student-t 1 × 1 (dof=1)", invariant.format("Student t")),
        SuiteEntry("bn-swiss-roll-2x1", lambda: SwissRoll(0.75), "Swiss roll 2 × 1",
                   "invariance: MI of the bivariate normal, correlation 0.75"),
        SuiteEntry("bn-multinormal-dense-1x1", lambda: MultinormalDense(1, 1, 0.5), "",
                   gauss),
    ]
    for d in (2, 3, 5, 25, 50):
        entries.append(SuiteEntry(
            f"bn-multinormal-dense-{d}x{d}",
            functools.partial(MultinormalDense, d, d, 0.5),
            f"Multinormal {d} × {d} (dense)", gauss))
    for d in (2, 3, 5, 25):
        entries.append(SuiteEntry(
            f"bn-multinormal-2pair-{d}x{d}", functools.partial(_two_pair, d),
            f"Multinormal {d} × {d} (2-pair)", "closed form: -log(1 - 0.8^2)"))
    for d, dof in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3)):
        entries.append(SuiteEntry(
            f"bn-student-t-{d}x{d}-dof{dof}",
            functools.partial(_student, d, dof),
            f"Student-t {d} × {d} (dof={dof})", student))
    for d, dof in ((1, 5), (2, 5), (5, 5)):
        entries.append(SuiteEntry(
            f"bn-student-t-{d}x{d}-dof{dof}",
            functools.partial(_student, d, dof), "", student))
    for transform, label in (("normal_cdf", "Normal CDF"), ("half_cube", "Half-cube"),
                             ("spiral", "Spiral")):
        for d in (3, 5, 25):
            entries.append(SuiteEntry(
                f"bn-{transform.replace('_', '-')}-multinormal-2pair-{d}x{d}",
                functools.partial(_map, transform, _two_pair, d),
                f"{label} @ Multinormal {d} × {d} (2-pair)",
                invariant.format("2-pair")))
    for d in (3, 5, 25):
        entries.append(SuiteEntry(
            f"bn-spiral-normal-cdf-multinormal-2pair-{d}x{d}",
            functools.partial(_spiral_cdf_two_pair, d),
            f"Spiral @ Normal CDF @ Multinormal {d} × {d} (2-pair)",
            invariant.format("2-pair")))
    for d, dof in ((2, 1), (3, 2), (5, 2)):
        entries.append(SuiteEntry(
            f"bn-asinh-student-t-{d}x{d}-dof{dof}",
            functools.partial(_map, "asinh", _student, d, dof),
            f"Asinh @ Student-t {d} × {d} (dof={dof})", invariant.format("Student t")))
    return tuple(entries)

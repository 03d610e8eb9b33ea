"""Procedural data sets with known generative factors (re-exported by ``datasets``).

Interpreting the latent space of a deep-learning model with mutual
information needs data whose *generative factors* are known: then the MI
between every latent and every factor can be estimated and compared with
what the generator guarantees. The two data sets here are generated offline
in seconds (no downloads) from independent, uniformly drawn factors:

- :class:`Sprites` -- small grey-scale images of a square, an ellipse or an
  equilateral triangle, with scale, rotation and x, y position as
  independent factors (a small, self-contained analogue of dSprites);
- :class:`HaloProfiles` -- the log-density of dark-matter halos at fixed
  physical radii, for an NFW or an Einasto profile parametrised by mass,
  concentration and (Einasto) shape ``alpha``, with Gaussian noise.

**Built-in null factor.** With ``profile="nfw"`` the Einasto shape ``alpha``
is still drawn and returned as a factor, but the NFW profile does not depend
on it: the data are independent of ``alpha``, so the MI between ``alpha``
and any latent (or any function of the data) is exactly 0. An estimate that
is not compatible with 0 flags an estimator (or pipeline) bias.

Both classes return ``(data, factors)`` from ``.sample(n, random_state)``:
``data`` is a numpy array with one row per sample and ``factors`` a
:class:`pandas.DataFrame` with one column per factor (names in
``.factor_names``). The same ``random_state`` gives identical output.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any, ClassVar

import numpy as np

from bayes_gmm_mi._data_checks import _check_int, _check_n, _check_real, _rng

__all__ = [
    "HALO_PROFILES",
    "SPRITE_SHAPES",
    "HaloProfiles",
    "Sprites",
]

#: Valid shape names for :class:`Sprites`, with their rotational symmetry
#: order k (the image repeats when the rotation changes by ``2 pi / k``).
SPRITE_SHAPES: dict[str, int] = {"square": 4, "ellipse": 2, "triangle": 3}

#: Valid profile names for :class:`HaloProfiles`.
HALO_PROFILES: tuple[str, ...] = ("nfw", "einasto")


# --------------------------------------------------------------------------- #
# Validation helpers
# --------------------------------------------------------------------------- #
def _check_range(
    name: str,
    value: Any,
    *,
    lower: float | None = None,
    lower_open: bool = True,
    upper: float | None = None,
) -> tuple[float, float]:
    """Validate ``(low, high)``: two finite reals with ``low < high``.

    ``lower`` / ``upper`` optionally bound the pair (``low > lower`` or
    ``low >= lower`` when ``lower_open`` is False; ``high <= upper``).
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(
        value
    ) != 2:
        raise TypeError(
            f"{name} must be a pair (low, high) of real numbers; got {value!r}."
        )
    low = _check_real(f"{name}[0]", value[0])
    high = _check_real(f"{name}[1]", value[1])
    if not low < high:
        raise ValueError(
            f"{name} must satisfy low < high; got low={low}, high={high}."
        )
    if lower is not None:
        ok = low > lower if lower_open else low >= lower
        if not ok:
            op = ">" if lower_open else ">="
            raise ValueError(f"{name} must have low {op} {lower}; got low={low}.")
    if upper is not None and high > upper:
        raise ValueError(f"{name} must have high <= {upper}; got high={high}.")
    return (low, high)


def _check_choice(kind: str, value: Any, valid: Any) -> str:
    """Validate a name against ``valid``; the error lists the valid names."""
    valid = list(valid)
    if not isinstance(value, str):
        raise TypeError(
            f"{kind} must be a string, one of {', '.join(valid)}; got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value not in valid:
        lower = {v.lower(): v for v in valid}
        close = difflib.get_close_matches(value.lower(), list(lower), n=1)
        hint = f" Did you mean {lower[close[0]]!r}?" if close else ""
        raise ValueError(
            f"unknown {kind} {value!r}; valid names are {', '.join(valid)}.{hint}"
        )
    return value


def _uniform(u: np.ndarray, low: float, high: float, levels: int | None,
             *, closed: bool = True) -> np.ndarray:
    """Map uniforms ``u`` in [0, 1) to [low, high), or to a grid of ``levels``.

    With ``levels`` the values are ``levels`` equally spaced points: including
    ``high`` when ``closed`` (``linspace(low, high, levels)``), excluding it
    otherwise (``low + (high - low) * k / levels``, for angles).
    """
    if levels is None:
        return low + (high - low) * u
    k = np.minimum(np.floor(u * levels), levels - 1)
    step = (high - low) / ((levels - 1) if closed else levels)
    return low + step * k


# --------------------------------------------------------------------------- #
# Sprites
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Sprites:
    """Grey-scale images of simple shapes with known, independent factors.

    Each image shows one white shape on a black background. The factors are
    drawn independently of each other:

    - ``shape`` -- uniform over ``shapes`` (categorical);
    - ``scale`` -- uniform on ``scale_range``;
    - ``rotation`` -- uniform on ``rotation_range`` (radians);
    - ``pos_x``, ``pos_y`` -- uniform on [0, 1].

    With ``n_levels`` every continuous factor is instead drawn uniformly from
    a grid of ``n_levels`` values (a dSprites-like discrete design).

    Parameters
    ----------
    size : int, default 32
        Image side in pixels, ``size >= 8``.
    shapes : sequence of str, default ("square", "ellipse", "triangle")
        Shapes to draw from (distinct names among :data:`SPRITE_SHAPES`).
        Their order sets the categories of the ``shape`` factor.
    scale_range : (float, float), default (0.5, 1.0)
        Range of the scale, ``0 < low < high <= 1``. At scale ``s`` every
        shape is inscribed in a circle of radius
        ``R = s * Sprites.EXTENT * size`` pixels (``EXTENT = 0.3``), so the
        shape's area is proportional to ``s**2``:

        - square: circumradius R, side ``sqrt(2) R``, area ``2 R**2``;
        - ellipse: semi-axes ``R`` and ``R / 2``, area ``pi R**2 / 2``;
        - triangle: equilateral, circumradius R, side ``sqrt(3) R``, area
          ``3 sqrt(3) R**2 / 4``.
    rotation_range : (float, float) or None, default None
        Range of the rotation angle in radians, counter-clockwise as
        displayed (row 0 at the top). At rotation 0 the square is
        axis-aligned, the ellipse's long axis is horizontal and the triangle
        points up. A shape of symmetry order k (square 4, ellipse 2, triangle
        3) looks the same at ``theta`` and ``theta + 2 pi / k``, so its image
        depends on the rotation only modulo ``2 pi / k``. ``None`` uses
        ``[0, 2 pi / k_max)`` with ``k_max`` the largest symmetry order among
        ``shapes`` (``[0, pi/2)`` by default): the rotation is then drawn from
        the same range for every shape (independent of ``shape``) and each
        image corresponds to exactly one rotation. Pass ``(0, 2 * pi)`` for a
        dSprites-like full turn (images then repeat within the range).
    n_levels : int or None, default None
        ``None`` draws scale, rotation and position from continuous uniform
        distributions. An int ``>= 2`` draws each of them uniformly from
        ``n_levels`` equally spaced values: ``linspace(low, high, n_levels)``
        for scale and position; ``low + (high - low) * k / n_levels``,
        ``k = 0, ..., n_levels - 1``, for the rotation (an angle range is
        half-open).
    supersample : int, default 4
        Each pixel is the mean of ``supersample**2`` sub-pixel samples, each
        itself anti-aliased with a linear ramp of one sub-pixel width across
        the edge (from the shape's signed distance). Pixel values therefore
        change smoothly with scale, rotation and position.

    Attributes
    ----------
    factor_names : tuple of str
        ``("shape", "scale", "rotation", "pos_x", "pos_y")``.

    Notes
    -----
    Position: the shape's centre (the centroid, also for the triangle) is at
    column ``x = m + pos_x * (size - 2 m)`` and row
    ``y = m + pos_y * (size - 2 m)`` in pixel units (pixel ``j`` spans
    ``[j, j + 1)``), with margin ``m = scale_range[1] * EXTENT * size + 1.5``:
    the largest sprite, at any rotation, stays inside the image, and the
    centre is a linear function of ``pos_x``/``pos_y`` independent of the
    other factors. ``pos_y`` increases downwards (with the row index).
    The centre can travel ``size - 2 m`` pixels (about ``0.4 size - 3`` for
    the default scale range), so use ``size >= 32`` for a well-resolved
    position.

    Examples
    --------
    >>> from bayes_gmm_mi.datasets import Sprites
    >>> images, factors = Sprites(size=32).sample(100, random_state=0)
    >>> images.shape, images.dtype
    ((100, 32, 32), dtype('float32'))
    >>> list(factors.columns)
    ['shape', 'scale', 'rotation', 'pos_x', 'pos_y']
    """

    size: int = 32
    shapes: tuple[str, ...] = ("square", "ellipse", "triangle")
    scale_range: tuple[float, float] = (0.5, 1.0)
    rotation_range: tuple[float, float] | None = None
    n_levels: int | None = None
    supersample: int = 4

    name: ClassVar[str] = "sprites"
    EXTENT: ClassVar[float] = 0.3
    factor_names: ClassVar[tuple[str, ...]] = (
        "shape",
        "scale",
        "rotation",
        "pos_x",
        "pos_y",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _check_int("size", self.size, 8))
        shapes = self.shapes
        if isinstance(shapes, str):
            shapes = (shapes,)
        if not hasattr(shapes, "__iter__"):
            raise TypeError(
                f"shapes must be a sequence of shape names; got {shapes!r}."
            )
        shapes = tuple(_check_choice("shape", s, SPRITE_SHAPES) for s in shapes)
        if not shapes:
            raise ValueError(
                "shapes must not be empty; valid names are "
                f"{', '.join(SPRITE_SHAPES)}."
            )
        if len(set(shapes)) != len(shapes):
            raise ValueError(f"shapes must be distinct; got {shapes}.")
        object.__setattr__(self, "shapes", shapes)
        object.__setattr__(
            self,
            "scale_range",
            _check_range("scale_range", self.scale_range, lower=0.0, upper=1.0),
        )
        if self.rotation_range is None:
            k_max = max(SPRITE_SHAPES[s] for s in shapes)
            rot = (0.0, 2.0 * math.pi / k_max)
        else:
            rot = _check_range("rotation_range", self.rotation_range)
        object.__setattr__(self, "rotation_range", rot)
        if self.n_levels is not None:
            object.__setattr__(
                self, "n_levels", _check_int("n_levels", self.n_levels, 2)
            )
        object.__setattr__(
            self, "supersample", _check_int("supersample", self.supersample, 1)
        )

    @property
    def margin(self) -> float:
        """Distance (pixels) from the image border to the extreme centres."""
        return self.scale_range[1] * self.EXTENT * self.size + 1.5

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, Any]:
        """Draw ``n`` images and their factors.

        Parameters
        ----------
        n : int
            Number of images, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        images : ndarray of shape (n, size, size), float32
            Pixel intensities in [0, 1] (fraction of the pixel covered).
        factors : pandas.DataFrame
            ``n`` rows, columns :attr:`factor_names`: ``shape`` (categorical,
            categories ``shapes``), ``scale`` (dimensionless, see the class
            docstring), ``rotation`` (radians), ``pos_x`` and ``pos_y``
            (in [0, 1]); all float64 except ``shape``.
        """
        import pandas as pd

        n = _check_n(n)
        rng = _rng(random_state)
        # One block of uniforms, so the stream consumed does not depend on
        # the ranges or on n_levels.
        u = rng.random((n, 5))
        shape_idx = np.minimum(
            np.floor(u[:, 0] * len(self.shapes)).astype(np.intp),
            len(self.shapes) - 1,
        )
        scale_low, scale_high = self.scale_range
        # __post_init__ replaced a None rotation_range by the shapes' symmetry range.
        assert self.rotation_range is not None
        rotation_low, rotation_high = self.rotation_range
        scale = _uniform(u[:, 1], scale_low, scale_high, self.n_levels)
        rotation = _uniform(u[:, 2], rotation_low, rotation_high, self.n_levels, closed=False)
        pos_x = _uniform(u[:, 3], 0.0, 1.0, self.n_levels)
        pos_y = _uniform(u[:, 4], 0.0, 1.0, self.n_levels)
        shape = pd.Categorical.from_codes(shape_idx, categories=list(self.shapes))
        images = self._render(shape_idx, scale, rotation, pos_x, pos_y)
        factors = pd.DataFrame(
            {
                "shape": shape,
                "scale": scale,
                "rotation": rotation,
                "pos_x": pos_x,
                "pos_y": pos_y,
            }
        )
        return images, factors

    def render(
        self,
        shape: Any,
        scale: Any,
        rotation: Any,
        pos_x: Any,
        pos_y: Any,
    ) -> np.ndarray:
        """Render images for given factor values (broadcast together).

        Parameters
        ----------
        shape : str or array-like of str
            Shape name(s), among ``shapes``.
        scale, rotation, pos_x, pos_y : float or array-like
            Factor values, as in :meth:`sample` (not restricted to the
            sampling ranges, but a scale above ``scale_range[1]`` or a
            position outside [0, 1] may leave the image).

        Returns
        -------
        ndarray of shape (m, size, size), float32
            ``m`` is the broadcast size of the inputs.
        """
        shape_arr = np.asarray(shape, dtype=object)
        values = [np.asarray(v) for v in (scale, rotation, pos_x, pos_y)]
        b = np.broadcast(shape_arr, *values)
        arrays = [
            np.broadcast_to(np.asarray(v), b.shape).ravel()
            for v in (shape_arr, scale, rotation, pos_x, pos_y)
        ]
        names = arrays[0]
        idx = np.empty(names.size, dtype=np.intp)
        for i, s in enumerate(names):
            _check_choice("shape", s, self.shapes)
            idx[i] = self.shapes.index(s)
        vals = []
        for label, v in zip(("scale", "rotation", "pos_x", "pos_y"), arrays[1:]):
            v = np.asarray(v, dtype=np.float64)
            if not np.all(np.isfinite(v)):
                raise ValueError(f"{label} must be finite.")
            vals.append(v)
        if np.any(vals[0] <= 0.0):
            raise ValueError("scale must be > 0.")
        return self._render(idx, *vals)

    # -- rasterisation ------------------------------------------------------ #
    def _render(
        self,
        shape_idx: np.ndarray,
        scale: np.ndarray,
        rotation: np.ndarray,
        pos_x: np.ndarray,
        pos_y: np.ndarray,
    ) -> np.ndarray:
        size, ss = self.size, self.supersample
        n = shape_idx.size
        images = np.zeros((n, size, size), dtype=np.float32)
        m = self.margin
        cx = m + pos_x * (size - 2.0 * m)
        cy = m + pos_y * (size - 2.0 * m)
        radius = scale * self.EXTENT * size
        for k, shape_name in enumerate(self.shapes):
            sel = np.flatnonzero(shape_idx == k)
            if sel.size == 0:
                continue
            # Rasterise only a square window of wp pixels around each sprite:
            # the shape plus its anti-aliasing ramp (< 1 pixel) fits inside.
            reach = float(radius[sel].max()) + 1.0
            wp = min(size, math.ceil(2.0 * reach) + 1)
            ox = np.clip(np.floor(cx[sel] - reach), 0, size - wp).astype(np.intp)
            oy = np.clip(np.floor(cy[sel] - reach), 0, size - wp).astype(np.intp)
            # Sub-pixel sample coordinates within the window (pixel units).
            grid = ((np.arange(wp * ss) + 0.5) / ss).astype(np.float32)
            # Keep each chunk's working arrays at about 2**21 float32 elements.
            chunk = max(1, (1 << 21) // (wp * ss) ** 2)
            span = np.arange(wp)
            for start in range(0, sel.size, chunk):
                part = slice(start, start + chunk)
                idx = sel[part]
                window = self._render_chunk(
                    shape_name,
                    grid,
                    radius[idx],
                    rotation[idx],
                    cx[idx] - ox[part],
                    cy[idx] - oy[part],
                )
                rows = oy[part][:, None, None] + span[None, :, None]
                cols = ox[part][:, None, None] + span[None, None, :]
                images[idx[:, None, None], rows, cols] = window
        return images

    def _render_chunk(
        self,
        shape_name: str,
        grid: np.ndarray,
        radius: np.ndarray,
        rotation: np.ndarray,
        cx: np.ndarray,
        cy: np.ndarray,
    ) -> np.ndarray:
        """Coverage of a (m, wp, wp) window; ``cx``, ``cy`` relative to it."""
        ss = self.supersample
        wp = grid.size // ss
        f32 = np.float32
        c = np.cos(rotation).astype(f32)[:, None, None]
        s = np.sin(rotation).astype(f32)[:, None, None]
        r = radius.astype(f32)[:, None, None]
        dx = grid[None, None, :] - cx.astype(f32)[:, None, None]  # (m, 1, W)
        # Upward-positive vertical offset, so rotations are counter-clockwise
        # as displayed (row 0 at the top).
        dy = cy.astype(f32)[:, None, None] - grid[None, :, None]  # (m, H, 1)
        # Coordinates in the shape's frame (rotate by -theta).
        u = c * dx + s * dy
        v = c * dy - s * dx
        # Exact Euclidean signed distances (pixels) for the polygons, so the
        # anti-aliasing ramp never reaches further than half a sub-pixel
        # beyond a corner.
        if shape_name == "square":
            half = r / f32(math.sqrt(2.0))
            qx = np.abs(u) - half
            qy = np.abs(v) - half
            dist = np.hypot(np.maximum(qx, f32(0.0)), np.maximum(qy, f32(0.0)))
            dist += np.minimum(np.maximum(qx, qy), f32(0.0))
        elif shape_name == "triangle":
            # Equilateral, centroid at the origin, apex up, half-side
            # w = sqrt(3) R / 2: fold onto the right half (|u|), move the base
            # midpoint to the origin, reflect across the right edge's normal
            # line when beyond it, then measure to the base segment.
            k = f32(math.sqrt(3.0))
            w = f32(0.5 * math.sqrt(3.0)) * r
            px = np.abs(u) - w
            py = v + w / k
            flip = px + k * py > 0
            px, py = (
                np.where(flip, f32(0.5) * (px - k * py), px),
                np.where(flip, f32(0.5) * (-k * px - py), py),
            )
            px = px - np.clip(px, -f32(2.0) * w, f32(0.0))
            dist = -np.hypot(px, py) * np.sign(py)
        else:  # ellipse, semi-axes R (along u) and R / 2 (along v)
            a2 = r * r
            b2 = f32(0.25) * a2
            q = u * u / a2 + v * v / b2 - f32(1.0)
            gx = u / a2
            gy = v / b2
            # First-order signed distance q / |grad q| (grad q = 2 (gx, gy)):
            # accurate near the edge, which is all the ramp below needs.
            dist = q / (f32(2.0) * np.sqrt(gx * gx + gy * gy) + f32(1e-12))
        cover = np.clip(f32(0.5) - dist * f32(ss), f32(0.0), f32(1.0))
        if ss > 1:
            cover = cover.reshape(-1, wp, ss, wp, ss).mean(axis=(2, 4))
        return cover


# --------------------------------------------------------------------------- #
# Dark-matter halo density profiles
# --------------------------------------------------------------------------- #
def _default_radii() -> np.ndarray:
    return np.logspace(-2.0, 0.0, 16)


@dataclasses.dataclass(frozen=True, eq=False)
class HaloProfiles:
    """Log-density of dark-matter halos at fixed radii, with known factors.

    Each sample is a halo of mass ``M = 10**log10_mass`` (solar masses) and
    concentration ``c``; the data are ``log10 rho(r)`` at the fixed physical
    radii ``radii`` plus independent Gaussian noise of ``noise`` dex. The
    factors are drawn independently:

    - ``log10_mass`` -- uniform on ``log10_mass_range`` (M200 in M_sun);
    - ``concentration`` -- uniform on ``concentration_range``
      (``c = R200 / r_s``);
    - ``alpha`` -- uniform on ``alpha_range`` (the Einasto shape).

    **For profile="nfw" the data do not depend on alpha**: it is still drawn
    and returned, as a built-in *null factor* whose MI with the data, and
    with any latent computed from them, is exactly 0.

    Parameters
    ----------
    profile : {"nfw", "einasto"}, default "nfw"
        Density profile (see Notes).
    radii : array-like of float, default ``np.logspace(-2, 0, 16)``
        Radii in Mpc (physical, not in units of R200), positive and finite.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise added to ``log10 rho``, in
        dex (``0.05`` dex is about 12 %); ``noise >= 0``.
    log10_mass_range : (float, float), default (12.0, 15.0)
        Range of ``log10(M200 / M_sun)``.
    concentration_range : (float, float), default (4.0, 15.0)
        Range of the concentration, ``low > 0``.
    alpha_range : (float, float), default (0.1, 0.3)
        Range of the Einasto shape parameter, ``low > 0``.

    Attributes
    ----------
    radii : ndarray of shape (n_radii,), float64
        The radii (Mpc), read-only.
    factor_names : tuple of str
        ``("log10_mass", "concentration", "alpha")``.
    null_factors : tuple of str
        Factors the data do not depend on: ``("alpha",)`` for NFW, ``()``
        for Einasto.

    Notes
    -----
    Constants: ``h = 0.7`` (``H0 = 70 km/s/Mpc``), critical density
    ``rho_crit = 2.775e11 h**2 M_sun / Mpc**3`` (:attr:`RHO_CRIT`), and
    masses defined within ``R200``, where the mean enclosed density is
    ``200 rho_crit``: ``M = (4/3) pi 200 rho_crit R200**3``. The scale
    radius is ``r_s = R200 / c``, and with ``x = r / r_s``:

    - NFW: ``rho = rho_s / (x (1 + x)**2)``, with
      ``M = 4 pi rho_s r_s**3 [ln(1 + c) - c / (1 + c)]``;
    - Einasto: ``rho = rho_s exp(-(2 / alpha) (x**alpha - 1))`` (``r_s`` is
      the radius where the log-slope is -2), with
      ``M = 4 pi rho_s r_s**3 e**(2/alpha) / alpha (alpha/2)**(3/alpha)
      gamma(3/alpha, (2/alpha) c**alpha)`` and ``gamma`` the lower
      incomplete gamma function (``scipy.special.gammainc`` times
      ``Gamma``).

    Densities are in ``M_sun / Mpc**3``. The local log-slope
    ``d ln rho / d ln r`` is ``-(1 + 3x) / (1 + x)`` for NFW (-1 inside,
    -3 outside ``r_s``) and ``-2 x**alpha`` for Einasto.

    Examples
    --------
    >>> from bayes_gmm_mi.datasets import HaloProfiles
    >>> halos = HaloProfiles(profile="nfw")
    >>> log_rho, factors = halos.sample(1000, random_state=0)
    >>> log_rho.shape
    (1000, 16)
    >>> halos.null_factors
    ('alpha',)
    """

    profile: str = "nfw"
    radii: Any = dataclasses.field(default_factory=_default_radii)
    noise: float = 0.05
    log10_mass_range: tuple[float, float] = (12.0, 15.0)
    concentration_range: tuple[float, float] = (4.0, 15.0)
    alpha_range: tuple[float, float] = (0.1, 0.3)

    name: ClassVar[str] = "halo-profiles"
    H: ClassVar[float] = 0.7
    RHO_CRIT: ClassVar[float] = 2.775e11 * 0.7**2  # M_sun / Mpc**3
    DELTA: ClassVar[float] = 200.0
    factor_names: ClassVar[tuple[str, ...]] = ("log10_mass", "concentration", "alpha")

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "profile", _check_choice("profile", self.profile, HALO_PROFILES)
        )
        if isinstance(self.radii, (str, bytes)):
            raise TypeError(
                f"radii must be an array of radii in Mpc; got {self.radii!r}."
            )
        try:
            radii = np.array(self.radii, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"radii must be an array of radii in Mpc; got {self.radii!r}."
            ) from None
        if radii.ndim != 1 or radii.size < 1:
            raise ValueError(
                "radii must be a non-empty 1-D array; got shape "
                f"{radii.shape}."
            )
        if not np.all(np.isfinite(radii)) or np.any(radii <= 0.0):
            raise ValueError(
                f"radii must be positive and finite (Mpc); got {radii.tolist()}."
            )
        radii.setflags(write=False)
        object.__setattr__(self, "radii", radii)
        noise = _check_real("noise", self.noise)
        if noise < 0.0:
            raise ValueError(f"noise must be >= 0 (dex); got {noise}.")
        object.__setattr__(self, "noise", noise)
        object.__setattr__(
            self,
            "log10_mass_range",
            _check_range("log10_mass_range", self.log10_mass_range),
        )
        object.__setattr__(
            self,
            "concentration_range",
            _check_range("concentration_range", self.concentration_range, lower=0.0),
        )
        object.__setattr__(
            self,
            "alpha_range",
            _check_range("alpha_range", self.alpha_range, lower=0.0),
        )

    @property
    def null_factors(self) -> tuple[str, ...]:
        """Factors the data do not depend on (``("alpha",)`` for NFW)."""
        return ("alpha",) if self.profile == "nfw" else ()

    @classmethod
    def r200(cls, log10_mass: Any) -> np.ndarray:
        """Radius ``R200`` (Mpc) enclosing mean density ``200 rho_crit``.

        Parameters
        ----------
        log10_mass : float or array-like
            ``log10(M200 / M_sun)``.

        Returns
        -------
        ndarray
            ``(3 M / (4 pi 200 rho_crit))**(1/3)``, same shape as the input.
        """
        mass = 10.0 ** np.asarray(log10_mass, dtype=np.float64)
        return np.cbrt(3.0 * mass / (4.0 * math.pi * cls.DELTA * cls.RHO_CRIT))

    def profile_log_density(
        self, r: Any, log10_mass: Any, concentration: Any, alpha: Any
    ) -> np.ndarray:
        """Noise-free ``log10 rho(r)`` (``rho`` in M_sun / Mpc**3).

        Parameters
        ----------
        r : float or array-like of shape (k,)
            Radii in Mpc.
        log10_mass, concentration, alpha : float or array-like of shape (n,)
            Halo factors (broadcast together). ``alpha`` is ignored for
            ``profile="nfw"`` (but must still broadcast).

        Returns
        -------
        ndarray of shape (n, k), float64
            Row i is the profile of halo i at the radii ``r`` (scalars count
            as ``n = 1`` or ``k = 1``).
        """
        r = np.atleast_1d(np.asarray(r, dtype=np.float64)).ravel()
        lm, conc, a = np.broadcast_arrays(
            np.atleast_1d(np.asarray(log10_mass, dtype=np.float64)),
            np.atleast_1d(np.asarray(concentration, dtype=np.float64)),
            np.atleast_1d(np.asarray(alpha, dtype=np.float64)),
        )
        lm, conc, a = lm.ravel()[:, None], conc.ravel()[:, None], a.ravel()[:, None]
        r_s = self.r200(lm) / conc
        x = r[None, :] / r_s
        ln_mass = lm * math.log(10.0)
        ln_vol = np.log(4.0 * math.pi) + 3.0 * np.log(r_s)
        if self.profile == "nfw":
            ln_rho_s = ln_mass - ln_vol - np.log(np.log1p(conc) - conc / (1.0 + conc))
            ln_rho = ln_rho_s - np.log(x) - 2.0 * np.log1p(x)
        else:
            from scipy.special import gammainc, gammaln

            p = 3.0 / a
            ln_norm = (
                2.0 / a
                - np.log(a)
                + p * np.log(a / 2.0)
                + gammaln(p)
                + np.log(gammainc(p, (2.0 / a) * conc**a))
            )
            ln_rho_s = ln_mass - ln_vol - ln_norm
            ln_rho = ln_rho_s - (2.0 / a) * np.expm1(a * np.log(x))
        return ln_rho / math.log(10.0)

    def sample(
        self, n: int, random_state: None | int | np.random.Generator = None
    ) -> tuple[np.ndarray, Any]:
        """Draw ``n`` halos.

        The generator first draws one ``(n, 3)`` block of uniforms (mapped to
        the three factor ranges) and then the ``(n, n_radii)`` noise, so for
        a given seed the factors' ranks and the noise do not depend on the
        ranges: two NFW samplers that differ only in ``alpha_range`` return
        identical ``log_density``.

        Parameters
        ----------
        n : int
            Number of halos, ``n >= 1``.
        random_state : None, int or numpy.random.Generator, default None
            Seed or generator; the same int gives identical arrays.

        Returns
        -------
        log_density : ndarray of shape (n, n_radii), float64
            ``log10 rho`` (M_sun / Mpc**3) at :attr:`radii`, plus
            ``N(0, noise**2)`` noise.
        factors : pandas.DataFrame
            ``n`` rows, float64 columns ``log10_mass`` (log10 M_sun),
            ``concentration`` (dimensionless) and ``alpha``
            (dimensionless; a null factor for NFW).
        """
        import pandas as pd

        n = _check_n(n)
        rng = _rng(random_state)
        u = rng.random((n, 3))
        log10_mass = _uniform(u[:, 0], *self.log10_mass_range, None)
        concentration = _uniform(u[:, 1], *self.concentration_range, None)
        alpha = _uniform(u[:, 2], *self.alpha_range, None)
        eps = rng.standard_normal((n, self.radii.size))
        log_density = self.profile_log_density(
            self.radii, log10_mass, concentration, alpha
        )
        log_density += self.noise * eps
        factors = pd.DataFrame(
            {"log10_mass": log10_mass, "concentration": concentration, "alpha": alpha}
        )
        return log_density, factors

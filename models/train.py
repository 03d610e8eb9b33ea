"""Train a small β-VAE on a procedural data set and save its sampled latents with the factors.

Usage (from the repository root)::

    python models/train.py sprites --n 20000 --steps 3000 --beta 4 --latent-dim 6 \\
        --seed 0 --out models/output/sprites.npz
    python models/train.py halos --out models/output/halos.npz

The data are generated from the seed (``bayes_gmm_mi.datasets.Sprites`` or
``HaloProfiles``), the model is trained (see ``beta_vae.py``), and one
``.npz`` file is written with, for every row, one sampled latent
z ~ q(z | x) (from a seeded key), the posterior mean and log-variance, and the
generative factors; plus the training curves and the settings. Progress goes
to stderr; nothing is printed to stdout. The same arguments give the same
file (bit for bit on the same machine and library versions).

Read a file back with :func:`load_output`, which returns pandas DataFrames
ready for ``bayes_gmm_mi.mi_matrix(latents, factors)``.

Keys of the ``.npz`` file
-------------------------
z, z_mean, z_logvar : float32 (n, latent_dim)
    Sampled latent, posterior mean and log-variance of every row.
factor_names : str (k,)
    Factor names, in the data set's column order.
factor_kinds : str (k,)
    ``"categorical"`` or ``"continuous"`` for each factor.
factor__<name> : (n,)
    The factor's values: int64 codes for a categorical factor, float64
    otherwise.
levels__<name> : str (levels,)
    Level names of a categorical factor (``levels[code]``).
loss, recon, kl : float64 (steps,)
    Per-step batch means of recon + β·KL, reconstruction NLL and KL (nats).
kl_per_dim : float64 (latent_dim,)
    Mean KL of each latent dimension over all rows (≈ 0: an inactive latent).
input_shift, input_scale : float32 (input_shape)
    The model saw ``(x - input_shift) / input_scale`` (0 and 1 for images).
settings : str ()
    JSON of every setting (data set, sizes, β, seeds, library versions).
train_seconds : float64 ()
    Wall time of the training loop (the only key that differs between runs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # `python models/train.py` and imports from tests
    sys.path.insert(0, str(_HERE))

import beta_vae  # noqa: E402

__all__ = ["DATASETS", "DEFAULTS", "build_parser", "load_output", "main", "make_data", "train"]

DATASETS = ("sprites", "halos")

#: Per-data-set defaults; any of them can be overridden on the command line.
DEFAULTS: dict[str, dict[str, Any]] = {
    "sprites": {
        "n": 20000, "steps": 10000, "beta": 4.0, "latent_dim": 6, "hidden": (256, 128),
        "batch_size": 256, "learning_rate": 1e-3, "likelihood": "bernoulli",
        "obs_sigma": 0.1, "profile": None,
    },
    "halos": {
        "n": 20000, "steps": 3000, "beta": 4.0, "latent_dim": 4, "hidden": (64, 64),
        "batch_size": 128, "learning_rate": 1e-3, "likelihood": "gaussian",
        "obs_sigma": 0.1, "profile": "nfw",
    },
}

DEFAULT_OUT_DIR = _HERE / "output"


def _generator(dataset: str, profile: str | None) -> Any:
    """The data-set object whose ``.sample(n, random_state)`` gives (inputs, factors)."""
    try:
        from bayes_gmm_mi.datasets import HaloProfiles, Sprites
    except ImportError as err:  # pragma: no cover - depends on the installed package
        raise ImportError(
            "models/train.py needs bayes_gmm_mi.datasets.Sprites and HaloProfiles; "
            "install the package from this repository (make venv)."
        ) from err
    if dataset == "sprites":
        return Sprites(size=32)
    if dataset == "halos":
        return HaloProfiles(profile=profile)
    raise ValueError(f"unknown data set {dataset!r}; choose one of {DATASETS}.")


def make_data(dataset: str, n: int, seed: int, profile: str | None = None) -> tuple[np.ndarray, Any]:
    """Generate a data set from a seed.

    Parameters
    ----------
    dataset : {"sprites", "halos"}
    n : int
        Number of rows (>= 1).
    seed : int
        ``random_state`` passed to the generator's ``.sample``.
    profile : {"nfw", "einasto"}, optional
        Halo profile (halos only).

    Returns
    -------
    x : numpy.ndarray
        float32 inputs: images ``(n, 32, 32)`` in [0, 1] or log-density
        profiles ``(n, n_radii)``.
    factors : pandas.DataFrame
        The generative factors, one row per input.

    Raises
    ------
    ValueError
        On an unknown data set, a non-positive ``n`` or inputs and factors of
        different lengths.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {DATASETS}.")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    x, factors = _generator(dataset, profile).sample(int(n), random_state=int(seed))
    x = np.asarray(x, dtype=np.float32)
    if x.shape[0] != len(factors):
        raise ValueError(f"{dataset}: {x.shape[0]} inputs but {len(factors)} factor rows.")
    return x, factors


def _encode_factors(factors: Any) -> dict[str, np.ndarray]:
    """Factor columns as arrays: int64 codes + level names for categorical ones."""
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    names, kinds = [], []
    for name in factors.columns:
        col = factors[name]
        name = str(name)
        if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col):
            cat = col.astype("category")
            out[f"factor__{name}"] = np.asarray(cat.cat.codes, dtype=np.int64)
            out[f"levels__{name}"] = np.asarray([str(v) for v in cat.cat.categories], dtype=str)
            kinds.append("categorical")
        else:
            out[f"factor__{name}"] = np.asarray(col, dtype=np.float64)
            kinds.append("continuous")
        names.append(name)
    out["factor_names"] = np.asarray(names, dtype=str)
    out["factor_kinds"] = np.asarray(kinds, dtype=str)
    return out


def _versions() -> dict[str, str]:
    import equinox
    import jax
    import optax

    return {"jax": jax.__version__, "equinox": equinox.__version__, "optax": optax.__version__,
            "numpy": np.__version__}


def train(
    dataset: str,
    *,
    n: int | None = None,
    steps: int | None = None,
    beta: float | None = None,
    latent_dim: int | None = None,
    hidden: Sequence[int] | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    obs_sigma: float | None = None,
    profile: str | None = None,
    seed: int = 0,
    data_seed: int | None = None,
    log_every: int = 250,
    verbose: bool = True,
) -> dict[str, np.ndarray]:
    """Generate data, train a β-VAE and encode every row; return the output arrays.

    Any setting left as ``None`` takes the data set's value from
    :data:`DEFAULTS`.

    Parameters
    ----------
    dataset : {"sprites", "halos"}
    n, steps, beta, latent_dim, hidden, batch_size, learning_rate, obs_sigma
        Data size and model/training settings (see :func:`beta_vae.make_vae`
        and :func:`beta_vae.fit`).
    profile : {"nfw", "einasto"}, optional
        Halo density profile (halos only).
    seed : int, default 0
        Seeds the weights, the mini-batches, the training latent draws and the
        saved latent draw (through three independent ``jax.random`` keys).
    data_seed : int, optional
        ``random_state`` of the data generator; defaults to ``seed``.
    log_every : int, default 250
        Steps between progress lines (and per jitted chunk).
    verbose : bool, default True
        Print progress to stderr.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays written by :func:`main` (see the module docstring).

    Raises
    ------
    ValueError
        On an unknown data set or an invalid setting.
    """
    import jax

    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; choose one of {DATASETS}.")
    given = {"n": n, "steps": steps, "beta": beta, "latent_dim": latent_dim, "hidden": hidden,
             "batch_size": batch_size, "learning_rate": learning_rate,
             "obs_sigma": obs_sigma, "profile": profile}
    cfg = {**DEFAULTS[dataset], **{k: v for k, v in given.items() if v is not None}}
    cfg["hidden"] = tuple(int(h) for h in cfg["hidden"])
    if cfg["profile"] is not None and dataset != "halos":
        raise ValueError("profile applies to the halos data set only.")
    if int(seed) != seed:
        raise ValueError(f"seed must be an integer; got {seed!r}.")
    data_seed = int(seed) if data_seed is None else int(data_seed)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if verbose else (lambda msg: None)

    t0 = time.perf_counter()
    x, factors = make_data(dataset, cfg["n"], data_seed, cfg["profile"])
    if cfg["likelihood"] == "gaussian":
        shift = x.mean(axis=0).astype(np.float32)
        scale = x.std(axis=0).astype(np.float32)
        scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    else:
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"{dataset}: Bernoulli likelihood needs inputs in [0, 1].")
        shift = np.zeros(x.shape[1:], np.float32)
        scale = np.ones(x.shape[1:], np.float32)
    x_model = (x - shift) / scale
    say(f"[{dataset}] data: {x.shape[0]} rows of shape {x.shape[1:]} "
        f"in {time.perf_counter() - t0:.1f} s")

    k_init, k_train, k_encode = jax.random.split(jax.random.key(int(seed)), 3)
    model = beta_vae.make_vae(
        k_init, x.shape[1:], latent_dim=cfg["latent_dim"], hidden=cfg["hidden"],
        likelihood=cfg["likelihood"], obs_sigma=cfg["obs_sigma"],
    )
    t1 = time.perf_counter()
    model, history = beta_vae.fit(
        model, x_model, key=k_train, steps=cfg["steps"], beta=cfg["beta"],
        batch_size=cfg["batch_size"], learning_rate=cfg["learning_rate"], log_every=log_every,
        progress=beta_vae.stderr_progress(f"[{dataset}] ") if verbose else None,
    )
    train_seconds = time.perf_counter() - t1
    z, mean, logvar = beta_vae.encode_dataset(model, x_model, key=k_encode)
    kl_per_dim = 0.5 * (np.exp(logvar.astype(np.float64)) + mean.astype(np.float64) ** 2
                        - 1.0 - logvar.astype(np.float64)).mean(axis=0)
    say(f"[{dataset}] trained {cfg['steps']} steps in {train_seconds:.1f} s; "
        f"final loss (mean of last {min(100, cfg['steps'])} steps) "
        f"{history.loss[-100:].mean():.3f}; KL per latent {np.round(kl_per_dim, 2).tolist()}")

    settings = {"dataset": dataset, **cfg, "hidden": list(cfg["hidden"]), "seed": int(seed),
                "data_seed": data_seed, "log_every": int(log_every),
                "input_shape": list(x.shape[1:]), "versions": _versions()}
    return {
        "z": z, "z_mean": mean, "z_logvar": logvar,
        **_encode_factors(factors),
        "loss": history.loss, "recon": history.recon, "kl": history.kl,
        "kl_per_dim": kl_per_dim,
        "input_shift": shift, "input_scale": scale,
        "settings": np.asarray(json.dumps(settings, sort_keys=True)),
        "train_seconds": np.asarray(train_seconds, dtype=np.float64),
    }


def save_output(arrays: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Path:
    """Write the arrays to an ``.npz`` file atomically (parent folders are created).

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
    path : path-like
        Must end in ``.npz``.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"the output file must end in .npz; got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_output(path: str | os.PathLike[str], latents: str = "z") -> tuple[Any, Any, dict[str, Any]]:
    """Read a file written by this script as DataFrames.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.
    latents : {"z", "z_mean"}, default "z"
        Which latents to return: the sampled ones (recommended for MI; see
        ``models/README.md``) or the posterior means.

    Returns
    -------
    latents : pandas.DataFrame
        Columns ``z0 ... z{d-1}``.
    factors : pandas.DataFrame
        One column per factor; categorical factors as ``pandas.Categorical``.
    info : dict
        The settings, plus ``"loss"``, ``"kl_per_dim"`` and ``"train_seconds"``.
    """
    import pandas as pd

    if latents not in ("z", "z_mean"):
        raise ValueError(f"latents must be 'z' or 'z_mean'; got {latents!r}.")
    with np.load(path, allow_pickle=False) as f:
        lat = pd.DataFrame(f[latents], columns=[f"z{i}" for i in range(f[latents].shape[1])])
        cols = {}
        for name, kind in zip(f["factor_names"].tolist(), f["factor_kinds"].tolist()):
            values = f[f"factor__{name}"]
            if kind == "categorical":
                cols[name] = pd.Categorical.from_codes(values, categories=f[f"levels__{name}"])
            else:
                cols[name] = values
        info = json.loads(f["settings"].item())
        info.update(loss=f["loss"], kl_per_dim=f["kl_per_dim"],
                    train_seconds=float(f["train_seconds"]))
    return lat, pd.DataFrame(cols), info


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _float_at_least(low: float, strict: bool) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
        bad = value <= low if strict else value < low
        if bad or not math.isfinite(value):
            rel = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"expected a finite number {rel} {low:g}; got {text!r}")
        return value

    return parse


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(_positive_int(t) for t in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive widths such as 256,128; got {text!r}") from None
    return widths


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (defaults of ``None`` mean the data set's default).

    Returns
    -------
    argparse.ArgumentParser
    """
    p = argparse.ArgumentParser(
        prog="models/train.py",
        description="Train a small β-VAE on a procedural data set and save sampled latents "
                    "z ~ q(z|x), posterior means/log-variances and the factors to an .npz file.",
    )
    p.add_argument("dataset", choices=DATASETS, help="which data set to generate and model")
    p.add_argument("--n", type=_positive_int, help="rows to generate (default 20000)")
    p.add_argument("--steps", type=_positive_int, help="Adam steps (default 10000 for sprites, 3000 for halos)")
    p.add_argument("--beta", type=_float_at_least(0.0, strict=False),
                   help="KL weight β >= 0 (default 4)")
    p.add_argument("--latent-dim", type=_positive_int,
                   help="latent dimensions (default 6 for sprites, 4 for halos)")
    p.add_argument("--hidden", type=_widths,
                   help="encoder hidden widths, e.g. 256,128 (default 256,128 / 64,64)")
    p.add_argument("--batch-size", type=_positive_int, help="rows per step (default 256 for sprites, 128 for halos)")
    p.add_argument("--learning-rate", type=_float_at_least(0.0, strict=True),
                   help="Adam step size (default 1e-3)")
    p.add_argument("--obs-sigma", type=_float_at_least(0.0, strict=True),
                   help="σ of the Gaussian likelihood on standardised profiles (halos; default 0.1)")
    p.add_argument("--profile", choices=("nfw", "einasto"),
                   help="halo density profile (halos only; default nfw, whose alpha factor is a null "
                        "factor the data do not depend on)")
    p.add_argument("--seed", type=int, default=0, help="seed of everything (default 0)")
    p.add_argument("--data-seed", type=int,
                   help="seed of the data generator (default: --seed)")
    p.add_argument("--log-every", type=_positive_int, default=250,
                   help="steps between progress lines (default 250)")
    p.add_argument("--out", type=Path,
                   help="output .npz (default models/output/<dataset>.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success. Invalid arguments exit with status 2 (argparse).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.profile is not None and args.dataset != "halos":
        parser.error("--profile applies to the halos data set only")
    out = args.out if args.out is not None else DEFAULT_OUT_DIR / f"{args.dataset}.npz"
    if out.suffix != ".npz":
        parser.error(f"--out must end in .npz; got {str(out)!r}")
    arrays = train(
        args.dataset, n=args.n, steps=args.steps, beta=args.beta, latent_dim=args.latent_dim,
        hidden=args.hidden, batch_size=args.batch_size, learning_rate=args.learning_rate,
        obs_sigma=args.obs_sigma, profile=args.profile, seed=args.seed,
        data_seed=args.data_seed, log_every=args.log_every, verbose=not args.quiet,
    )
    path = save_output(arrays, out)
    if not args.quiet:
        print(f"[{args.dataset}] wrote {path}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

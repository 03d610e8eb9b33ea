"""Command line interface: ``bayes-gmm-mi``.

Two sub-commands:

``bayes-gmm-mi demo``
    Draws a sample from a data set whose mutual information (MI) is known in
    closed form (by default a bivariate Gaussian with correlation 0.6, for which
    one mixture component is the right model, so that all three methods finish
    in seconds; ``--dataset gamma-exponential`` is a harder, non-Gaussian case),
    estimates the MI with bootstrap, VI and MCMC uncertainty at the library's
    default settings, and compares each with the truth.

``bayes-gmm-mi estimate FILE.csv --x COL --y COL``
    Estimates the MI between two numeric columns of a CSV file and prints a
    readable summary, or one JSON object with ``--json``.

Errors in the input (a missing file or column, non-numeric or missing values,
too few rows, data or an option the library refuses, a request over the memory
limit) are reported as one line, ``bayes-gmm-mi: error: <message>``, on
standard error, with exit status 2. The library's warnings are printed when a
run ends, one line each (``bayes-gmm-mi: warning: ...``), and not at all when
its input is refused: a refusal is one line.

Because just-in-time compilation is a noticeable part of the run time of a
short command, the command line switches on JAX's persistent compilation cache
(in ``$BAYES_GMM_MI_CACHE_DIR``, default ``~/.cache/bayes_gmm_mi/jax``) unless
``--no-cache`` is given. This is a global JAX setting, made here because this
is the program; the library itself never changes JAX's configuration.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bayes_gmm_mi import __version__
from bayes_gmm_mi._cache import CACHE_ENV_VAR, DEFAULT_CACHE_DIR, configure_compilation_cache
from bayes_gmm_mi._estimator import METHODS

__all__ = ["main", "build_parser"]

PROG = "bayes-gmm-mi"
DEMO_DATASETS = ("gaussian", "gamma-exponential", "weinman", "transformed-gaussian")

_EXIT_OK = 0
_EXIT_ERROR = 2
_EXIT_INTERRUPTED = 130
_UNIT_NAMES = {"nat": "nats", "bit": "bits"}



class CLIError(Exception):
    """An error in the user's input, reported as one line with exit status 2."""


# --------------------------------------------------------------------------- #
# Argument parsing
# --------------------------------------------------------------------------- #
def _positive_int(text: str) -> int:
    """Parse a strictly positive integer (for argparse)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    """Parse an integer >= 0 (for argparse)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _components(text: str) -> int | str:
    """Parse ``--components``: a positive integer or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'auto', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'auto', got {text!r}"
        )
    return value


def _add_common_options(parser: argparse.ArgumentParser, *, demo: bool = False) -> None:
    """Add the options shared by ``demo`` and ``estimate``."""
    methods = ("all",) + METHODS if demo else METHODS
    default = "all" if demo else "bootstrap"
    parser.add_argument(
        "--method",
        choices=methods,
        default=default,
        help="how the uncertainty is computed: bootstrap (refits of resampled data), "
        "vi (variational posterior), mcmc (NUTS posterior)"
        + (", or all three side by side" if demo else "")
        + f" (default: {default})",
    )
    parser.add_argument(
        "--chains", type=_positive_int, default=4, metavar="C",
        help="MCMC chains (default: 4)",
    )
    parser.add_argument(
        "--warmup", type=_positive_int, default=500, metavar="W",
        help="MCMC warm-up iterations per chain (default: 500)",
    )
    parser.add_argument(
        "--draws", type=_positive_int, default=500, metavar="S",
        help="posterior draws per MCMC chain, or in total for VI (default: 500)",
    )
    parser.add_argument(
        "--svi-steps", type=_positive_int, default=1000, metavar="T",
        help="VI optimisation steps (default: 1000)",
    )
    parser.add_argument(
        "--bootstrap",
        type=_non_negative_int,
        default=50,
        metavar="B",
        help="number of bootstrap replicates (default: 50; 0 gives no uncertainty)",
    )
    parser.add_argument(
        "--units",
        choices=("nat", "bit"),
        default="nat",
        help="units of the result (default: nat)",
    )
    parser.add_argument(
        "--transform",
        choices=("auto", "none", "rank"),
        default="auto",
        help="representation(s) fitted: 'auto' fits the data's coordinates and the normal "
        "scores of their ranks and pools their draws (warning when they disagree), 'none' "
        "the data's coordinates only, 'rank' the normal scores only (default: auto)",
    )
    parser.add_argument(
        "--components",
        type=_components,
        default="auto",
        metavar="K|auto",
        help="number of mixture components, or 'auto' to choose it by "
        "cross-validation (default: auto)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead of a readable summary",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar on standard error",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help=f"do not use JAX's persistent compilation cache "
        f"(default location: ${CACHE_ENV_VAR} or {DEFAULT_CACHE_DIR})",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``bayes-gmm-mi``.

    Returns
    -------
    argparse.ArgumentParser
        Parser with the ``demo`` and ``estimate`` sub-commands.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Mutual information between two variables from Gaussian "
        "mixture models, with bootstrap or Bayesian (VI, MCMC) uncertainty.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="estimate MI on a data set with known MI and compare with the truth",
        description="Draw a sample from a data set with known mutual information, "
        "estimate it with bootstrap, VI and MCMC errors (one mixture fit shared by "
        "all three), and compare each with the truth.",
    )
    demo.add_argument(
        "--dataset",
        default="gaussian",
        metavar="NAME",
        help=f"data set: one of {', '.join(DEMO_DATASETS)} "
        "(default: gaussian, correlation 0.6)",
    )
    demo.add_argument(
        "--n", type=_positive_int, default=2000, metavar="N",
        help="sample size (default: 2000)",
    )
    demo.add_argument(
        "--seed", type=_non_negative_int, default=0, metavar="S",
        help="random seed for the sample and the estimate (default: 0)",
    )
    _add_common_options(demo, demo=True)
    demo.set_defaults(handler=_run_demo)

    est = sub.add_parser(
        "estimate",
        help="estimate MI between two columns of a CSV file",
        description="Estimate the mutual information between two numeric "
        "columns of a CSV file ('-' reads standard input).",
    )
    est.add_argument("file", metavar="FILE.csv", help="CSV file with a header row")
    est.add_argument("--x", required=True, metavar="COL", help="name of the first column")
    est.add_argument("--y", required=True, metavar="COL", help="name of the second column")
    est.add_argument(
        "--seed", type=_non_negative_int, default=None, metavar="S",
        help="random seed (default: fresh randomness on every run)",
    )
    est.add_argument(
        "--discrete-x", action="store_true",
        help="the x column holds classes (any values): one mixture per class of x",
    )
    est.add_argument(
        "--discrete-y", action="store_true",
        help="the y column holds classes; with --discrete-x too, the MI of the table of "
        "counts (Miller-Madow corrected)",
    )
    est.add_argument(
        "--dequantise", action="store_true",
        help="spread tied values uniformly over their cells instead of refusing a "
        "discrete-looking continuous column (the MI of discrete data is unchanged)",
    )
    _add_common_options(est)
    est.set_defaults(handler=_run_estimate)
    return parser


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _one_line(message: Any) -> str:
    """Collapse a message onto a single line."""
    return " ".join(str(message).split()) or "unknown error"


def _exception_message(exc: BaseException) -> str:
    """Message of an exception without ``KeyError``'s extra quotes."""
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return _one_line(exc.args[0])
    return _one_line(exc)


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats by None (JSON has no NaN) and numpy scalars by Python ones."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _spawn_seeds(seed: int | None, n: int) -> list[int | None]:
    """Independent integer seeds for ``n`` random streams derived from one seed."""
    if seed is None:
        return [None] * n
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def _estimate(x: np.ndarray, y: np.ndarray, args: argparse.Namespace,
              random_state: int | None) -> dict[str, Any]:
    """Fit once and make the draws of each requested method.

    Returns a dict method → :class:`~bayes_gmm_mi.MIResult` (in the order
    bootstrap, vi, mcmc); the library's input errors become CLIError.
    """
    from bayes_gmm_mi import GMMMI, mutual_information

    methods = METHODS if args.method == "all" else (args.method,)
    settings: dict[str, Any] = dict(
        n_components=args.components,
        transform=None if args.transform == "none" else args.transform,
        n_bootstrap=args.bootstrap,
        random_state=random_state,
        units=args.units,
        progress=args.progress,
        num_chains=args.chains,
        num_warmup=args.warmup,
        num_samples=args.draws,
        svi_steps=args.svi_steps,
        dequantise=getattr(args, "dequantise", False),
    )
    discrete: dict[str, Any] = {"discrete_x": getattr(args, "discrete_x", False),
                "discrete_y": getattr(args, "discrete_y", False)}
    try:
        if any(discrete.values()):
            return {method: mutual_information(x, y, **discrete, **{**settings, "method": method})
                    for method in methods}
        estimator = GMMMI(**settings).fit(x, y)
        return {method: estimator.estimate_mi(method=method) for method in methods}
    except (ValueError, TypeError, FloatingPointError) as exc:
        # The library's refusals of the data or of a setting (its memory check
        # included: a ValueError): one line, exit status 2.
        raise CLIError(_exception_message(exc)) from exc
    except MemoryError as exc:
        raise CLIError(
            f"out of memory ({_exception_message(exc)}); use fewer rows, "
            "fewer --bootstrap replicates or fewer --draws"
        ) from exc


def _plural(count: int, noun: str) -> str:
    """``"1 component"``, ``"6 components"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _fmt(value: float, digits: int = 4) -> str:
    """Format a number for the readable summary (``n/a`` for NaN)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _row(label: str, value: str) -> str:
    """One aligned ``label: value`` line of the readable summary."""
    return f"{label + ':':<16}{value}"


def _summary_lines(result, units: str) -> list[str]:
    """Lines describing an :class:`~bayes_gmm_mi.MIResult`."""
    unit = _UNIT_NAMES.get(units, units)
    low, high = result.interval(0.95)
    spread = f" ± {_fmt(result.std)}" if math.isfinite(result.std) else ""
    lines = [_row("MI", f"{_fmt(result.mean)}{spread} {unit}")]
    if math.isfinite(low) and math.isfinite(high):
        lines.append(_row("95% interval", f"[{_fmt(low)}, {_fmt(high)}] {unit}"))
    else:
        lines.append(_row("95% interval", f"n/a ({_no_interval_reason(result)})"))
    lines.append(_row("point estimate", f"{_fmt(result.point_estimate)} {unit} "
                                        f"(Monte Carlo error {result.mc_error:.1e})"))
    lines.append(_row("components", str(result.n_components) if result.n_components
                      else "none (two discrete variables: the table of counts)"))
    what = "replicates" if result.method == "bootstrap" else "posterior draws"
    reps = result.info.get("representations", {})
    if reps:
        per = result.draws.size // result.n_models
        larger = result.info.get("larger_k")
        extra = (f", and the {next(iter(reps))} representation's at K = "
                 f"{larger['n_components']}" if larger else "")
        lines.append(_row("method", f"{result.method} ({len(reps)} × {per} {what}: "
                                    f"{' and '.join(reps)} representations pooled{extra})"))
        models = [f"{name} {_fmt(rep['mi'])} (K = {rep['n_components']})"
                  for name, rep in reps.items()]
        if larger:
            models.append(f"{next(iter(reps))} {_fmt(larger['mi'])} "
                          f"(K = {larger['n_components']})")
        lines.append(_row("by model", ", ".join(models)))
    else:
        lines.append(_row("method", f"{result.method} ({result.draws.size} {what})"))
    bad = int(np.sum(~np.isfinite(result.draws)))
    if bad:
        lines.append(_row("not finite", f"{bad} of {result.draws.size} {what} (NaN or inf); "
                                        "the interval ignores them"))
    if result.method == "mcmc":
        lines.append(_row("diagnostics", _diagnostics_text(result)))
    return lines


def _no_interval_reason(result) -> str:
    """Why a result has no interval: no draws, or draws that are not finite."""
    what = "bootstrap replicates" if result.method == "bootstrap" else "posterior draws"
    if result.draws.size == 0:
        return f"no {what}"
    bad = int(np.sum(~np.isfinite(result.draws)))
    if bad:
        return f"{bad} of {result.draws.size} {what} are not finite (NaN or inf)"
    return f"the {what} give no finite interval"


def _diagnostics_text(result) -> str:
    """R-hat, bulk ESS and divergences of an MCMC result."""
    info = result.info
    return (f"R-hat {_fmt(info.get('r_hat', math.nan), 3)}, "
            f"bulk ESS {_fmt(info.get('ess_bulk', math.nan), 0)}, "
            f"{info.get('divergences', 0)} divergences ({result.n_chains} chains)")


def _table_lines(results: dict[str, Any], truth: float | None) -> list[str]:
    """A side-by-side table of several results (the demo with ``--method all``)."""
    head = f"{'method':<10}{'MI':>8}{'sd':>8}   {'95% interval':<18}"
    if truth is not None:
        head += f"{'truth in':<10}"
    head += f"{'R-hat':>7}{'ESS':>7}{'time':>9}"
    lines = [head]
    for method, res in results.items():
        low, high = res.interval(0.95)
        line = f"{method:<10}{_fmt(res.mean):>8}{_fmt(res.std):>8}   "
        line += f"{'[' + _fmt(low) + ', ' + _fmt(high) + ']':<18}"
        if truth is not None:
            inside = "n/a" if not math.isfinite(low) else ("yes" if low <= truth <= high else "no")
            line += f"{inside:<10}"
        r_hat = res.info.get("r_hat", math.nan) if method == "mcmc" else math.nan
        ess = res.info.get("ess_bulk", math.nan) if method == "mcmc" else math.nan
        line += f"{_fmt(r_hat, 3):>7}{_fmt(ess, 0):>7}{res.wall_time:>7.2f} s"
        lines.append(line)
    return lines


def _time_line(
    total: float, estimate: float, info: dict[str, Any], data: float | None = None
) -> str:
    """The ``time:`` line: total, and the estimate split into fit and bootstrap."""
    parts = []
    fit, boot = info.get("fit_time_s"), info.get("bootstrap_time_s")
    if boot is None and "sampling_time_s" in info:
        boot = info["sampling_time_s"] + info.get("integration_time_s", 0.0)
        label = "posterior"
    else:
        label = "bootstrap"
    if isinstance(fit, (int, float)) and isinstance(boot, (int, float)):
        parts.append(f"fit {fit:.2f} s, {label} {boot:.2f} s")
    detail = f": {parts[0]}" if parts else ""
    text = f"{total:.2f} s total (compile + estimate {estimate:.2f} s{detail}"
    if data is not None:
        text += f"; data {data:.2f} s"
    return _row("time", text + ")")


# --------------------------------------------------------------------------- #
# Output functions (the only places that print)
# --------------------------------------------------------------------------- #
def _print_json(obj: dict[str, Any]) -> None:
    """Print one JSON object on standard output."""
    print(json.dumps(_json_safe(obj), allow_nan=False))


def _print_lines(lines: Sequence[str]) -> None:
    """Print a readable summary on standard output."""
    print("\n".join(lines))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a library warning as one line on standard error (no source location)."""
    print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)


def _print_error(message: str) -> None:
    """Print a one-line error message on standard error."""
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)


# --------------------------------------------------------------------------- #
# Sub-commands
# --------------------------------------------------------------------------- #
def _run_demo(args: argparse.Namespace, t_start: float) -> int:
    """Run ``bayes-gmm-mi demo``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    t_start : float
        ``time.perf_counter()`` when the command started.

    Returns
    -------
    int
        Exit status.
    """
    from bayes_gmm_mi.datasets import get_dataset

    data_seed, fit_seed = _spawn_seeds(args.seed, 2)
    t0 = time.perf_counter()
    try:
        dataset = get_dataset(args.dataset)
        x, y = dataset.sample(args.n, random_state=data_seed)
        truth_nat = float(dataset.mi)
    except (ValueError, TypeError, KeyError) as exc:
        raise CLIError(_exception_message(exc)) from exc
    t_data = time.perf_counter() - t0

    t0 = time.perf_counter()
    results = _estimate(x, y, args, fit_seed)
    t_estimate = time.perf_counter() - t0
    t_total = time.perf_counter() - t_start

    truth = truth_nat if args.units == "nat" else truth_nat / math.log(2.0)
    unit = _UNIT_NAMES[args.units]
    first = next(iter(results.values()))

    def inside(res) -> bool | None:
        low, high = res.interval(0.95)
        return bool(low <= truth <= high) if math.isfinite(low) else None

    if args.json:
        out = {
            "dataset": args.dataset,
            "description": repr(dataset),
            "n": args.n,
            "seed": args.seed,
            **first.to_dict(),
            "truth": truth,
            "truth_in_interval": inside(first),
            "time_s": {
                "total": t_total,
                "data": t_data,
                "compile_and_estimate": t_estimate,
                "fit": first.info.get("fit_time_s"),
                "bootstrap": first.info.get("bootstrap_time_s"),
            },
        }
        if len(results) > 1:
            out["methods"] = {
                method: {**res.to_dict(), "truth_in_interval": inside(res)}
                for method, res in results.items()
            }
        _print_json(out)
        return _EXIT_OK

    header = [
        _row("data set", f"{args.dataset} — {dataset!r}"),
        _row("sample size", f"N = {args.n} (seed {args.seed})"),
    ]
    if len(results) == 1:
        verdict = {None: "n/a", True: "yes", False: "no"}[inside(first)]
        lines = [
            *header,
            *_summary_lines(first, args.units),
            _row("truth", f"{_fmt(truth)} {unit}"),
            _row("truth inside", f"{verdict} (95% interval)"),
            _time_line(t_total, t_estimate, first.info, t_data),
        ]
    else:
        lines = [
            *header,
            _row("truth", f"{_fmt(truth)} {unit}"),
            _row("point estimate", f"{_fmt(first.point_estimate)} {unit} (EM fit, "
                                   f"{_plural(first.n_components, 'component')}, "
                                   f"Monte Carlo error {first.mc_error:.1e})"),
            "",
            *_table_lines(results, truth),
            "",
            _row("time", f"{t_total:.2f} s total (compile + estimate {t_estimate:.2f} s, "
                         f"of which the EM fit {first.info['fit_time_s']:.2f} s; "
                         f"data {t_data:.2f} s)"),
        ]
    _print_lines(lines)
    return _EXIT_OK


def _read_columns(path: str, xcol: str, ycol: str,
                  discrete: tuple[bool, bool] = (False, False)) -> tuple[np.ndarray, np.ndarray]:
    """Read two numeric columns of a CSV file, with one-line errors for bad input.

    Parameters
    ----------
    path : str
        CSV file with a header row, or ``-`` for standard input.
    xcol, ycol : str
        Column names.
    discrete : (bool, bool)
        Whether each column holds classes (any values, kept as read; only
        missing values are refused).

    Returns
    -------
    (x, y) : tuple of ndarray of float
        The two columns.

    Raises
    ------
    CLIError
        If the file cannot be read, a column is missing or not numeric, or a
        value is missing or not finite.
    """
    import pandas as pd

    if xcol == ycol:
        raise CLIError(f"--x and --y name the same column {xcol!r}; MI of a variable "
                       "with itself is infinite")
    source: Any = sys.stdin if path == "-" else path
    if path != "-":
        p = Path(path)
        if not p.exists():
            raise CLIError(f"file not found: {path}")
        if p.is_dir():
            raise CLIError(f"{path} is a directory, not a CSV file")
    try:
        frame = pd.read_csv(source)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path} is empty (expected a CSV file with a header row)") from None
    except pd.errors.ParserError as exc:
        raise CLIError(f"cannot parse {path} as CSV: {_one_line(exc)}") from exc
    except UnicodeDecodeError:
        raise CLIError(f"{path} is not a UTF-8 text file") from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from exc

    available = [str(c) for c in frame.columns]
    missing = [c for c in (xcol, ycol) if c not in frame.columns]
    if missing:
        names = " and ".join(repr(c) for c in missing)
        noun = "column" if len(missing) == 1 else "columns"
        raise CLIError(f"{noun} {names} not found in {path}; available columns: "
                       f"{', '.join(repr(c) for c in available)}")
    if len(frame) == 0:
        raise CLIError(f"{path} has a header but no data rows")

    arrays = []
    for name, is_discrete, flag in zip((xcol, ycol), discrete, ("--discrete-x", "--discrete-y"),
                                       strict=True):
        column = frame[name]
        if isinstance(column, pd.DataFrame):
            raise CLIError(f"column name {name!r} appears more than once in {path}")
        if is_discrete:
            if column.isna().any():
                raise CLIError(f"column {name!r} has {int(column.isna().sum())} missing "
                               "value(s); drop or fill them first")
            arrays.append(column.to_numpy())
            continue
        if pd.api.types.is_bool_dtype(column.dtype):
            raise CLIError(f"column {name!r} holds True/False values, not continuous numbers; "
                           f"pass {flag} if it holds classes")
        if not (pd.api.types.is_numeric_dtype(column.dtype)
                and not pd.api.types.is_complex_dtype(column.dtype)):
            bad = pd.to_numeric(column, errors="coerce").isna() & column.notna()
            example = ""
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                example = f" (e.g. {column.iloc[row]!r} in data row {row + 1})"
            raise CLIError(f"column {name!r} is not numeric{example}; pass {flag} if it "
                           "holds classes")
        values = column.to_numpy(dtype=float, na_value=np.nan)
        nan = np.isnan(values)
        if nan.any():
            raise CLIError(f"column {name!r} has {int(nan.sum())} missing (NaN) value(s), "
                           f"first in data row {int(np.flatnonzero(nan)[0]) + 1}; "
                           "drop or fill them first")
        inf = ~np.isfinite(values)
        if inf.any():
            raise CLIError(f"column {name!r} has {int(inf.sum())} infinite value(s), "
                           f"first in data row {int(np.flatnonzero(inf)[0]) + 1}")
        arrays.append(values)
    return arrays[0], arrays[1]


def _run_estimate(args: argparse.Namespace, t_start: float) -> int:
    """Run ``bayes-gmm-mi estimate``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    t_start : float
        ``time.perf_counter()`` when the command started.

    Returns
    -------
    int
        Exit status.
    """
    x, y = _read_columns(args.file, args.x, args.y, (args.discrete_x, args.discrete_y))
    t0 = time.perf_counter()
    try:
        result = _estimate(x, y, args, args.seed)[args.method]
    except CLIError as exc:
        # The library calls the variables x and y; say which columns they are, and
        # name the command line's options for the library's.
        message = str(exc).replace(
            "discrete_x=True or discrete_y=True to mutual_information", "--discrete-x or "
            "--discrete-y").replace("dequantise=True", "--dequantise")
        raise CLIError(f"{message} (x is column {args.x!r}, y is column {args.y!r})") from exc
    t_estimate = time.perf_counter() - t0

    if args.json:
        _print_json({"file": args.file, "x": args.x, "y": args.y, **result.to_dict()})
        return _EXIT_OK
    lines = [
        _row("file", args.file),
        _row("columns", f"x = {args.x!r}, y = {args.y!r} (N = {result.n_samples})"),
        *_summary_lines(result, args.units),
        _time_line(time.perf_counter() - t_start, t_estimate, result.info),
    ]
    _print_lines(lines)
    return _EXIT_OK


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def main(argv: list[str] | None = None) -> int:
    """Run the ``bayes-gmm-mi`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a usage error or bad input (reported
        as one line on standard error), 130 when interrupted. ``--help`` and
        ``--version`` return 0 instead of raising ``SystemExit``.
    """
    t_start = time.perf_counter()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else _EXIT_ERROR)

    try:
        configure_compilation_cache(enabled=not args.no_cache)
        # Warnings are held until the run ends: a run that succeeds prints them (one
        # line each), a run whose data are refused prints its one-line error alone.
        with warnings.catch_warnings(record=True) as caught:
            code = args.handler(args, t_start)
        for item in caught:
            _show_warning(item.message, item.category, item.filename, item.lineno)
        return code
    except CLIError as exc:
        _print_error(str(exc))
        return _EXIT_ERROR
    except KeyboardInterrupt:
        _print_error("interrupted")
        return _EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

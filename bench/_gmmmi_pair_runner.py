"""Run one GMM-MI 0.8.2 continuous-pair estimate with a given number of bootstrap replicates.

Executed inside bench/.venv-gmmmi, not the project venv.

Usage: python _gmmmi_pair_runner.py DATA.npz OUT.json N_BOOTSTRAP

DATA.npz holds arrays ``x`` and ``y`` (1-D, same length). The estimate uses
GMM-MI's default settings except for the number of bootstrap replicates, which
is passed explicitly (its default is 50 as well)::

    EstimateMI().fit_estimate(np.column_stack([x, y]),
                              mi_dist_params=MIDistParamHolder(n_bootstrap=N_BOOTSTRAP))

(``bench/_gmmmi_runner.py`` makes the same call with the default replicates.)
``time_s`` is that call. GMM-MI's progress bar is swallowed; the result goes to
OUT.json. This file only *calls* GMM-MI (installed from PyPI); it contains none
of its code.
"""

import contextlib
import io
import json
import sys
import time
import traceback
import warnings


def main() -> int:
    data_path, out_path, n_boot = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t_start = time.perf_counter()
    import numpy as np
    from gmm_mi.mi import EstimateMI
    from gmm_mi.param_holders import MIDistParamHolder

    t_import = time.perf_counter() - t_start
    data = np.load(data_path)
    X = np.column_stack([np.asarray(data["x"], float).ravel(), np.asarray(data["y"], float).ravel()])
    record = {"import_s": t_import, "n_bootstrap": n_boot}
    try:
        import importlib.metadata as md

        record["gmm_mi_version"] = md.version("gmm-mi")
        record["sklearn_version"] = md.version("scikit-learn")
    except Exception:  # pragma: no cover - informational only
        pass
    sink_out, sink_err = io.StringIO(), io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with contextlib.redirect_stdout(sink_out), contextlib.redirect_stderr(sink_err):
                est = EstimateMI()
                t0 = time.perf_counter()
                mi_mean, mi_std = est.fit_estimate(
                    X, mi_dist_params=MIDistParamHolder(n_bootstrap=n_boot))
                elapsed = time.perf_counter() - t0
        record.update(
            ok=True,
            time_s=elapsed,
            mi=float(mi_mean),
            std=float(mi_std) if mi_std is not None else None,
            n_components=int(est.__dict__.get("best_components", -1)),
            warnings=sorted({str(w.message)[:200] for w in caught})[:20],
        )
    except Exception as exc:  # GMM-MI has known crashes; record them
        record.update(
            ok=False,
            error=f"{type(exc).__name__}: {exc}"[:500],
            traceback=traceback.format_exc()[-2000:],
        )
    with open(out_path, "w") as fh:
        json.dump(record, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

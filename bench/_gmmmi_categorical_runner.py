"""Run one GMM-MI 0.8.2 categorical estimate; executed inside bench/.venv-gmmmi.

Usage: python _gmmmi_categorical_runner.py DATA.npz OUT.json N_BOOTSTRAP

DATA.npz holds ``x`` (1-D float, the continuous variable) and ``labels`` (1-D
integers 0..K-1, as GMM-MI requires). The estimate uses GMM-MI's default
settings except for the number of bootstrap replicates, which is passed
explicitly (its default is 50 as well)::

    EstimateMI().fit_estimate_categorical(
        x, labels, mi_dist_params=MIDistParamHolder(n_bootstrap=N_BOOTSTRAP))

``time_s`` is that call; the fit (``fit_categorical``) and the bootstrap
(``estimate_categorical``) are also timed separately by calling them in turn
-- exactly what ``fit_estimate_categorical`` does -- so ``fit_s`` +
``bootstrap_s`` = ``time_s``. GMM-MI's progress bar is swallowed; the result
goes to OUT.json. This file only *calls* GMM-MI (installed from PyPI); it
contains none of its code.
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
    x = np.asarray(data["x"], float).ravel()
    labels = np.asarray(data["labels"]).ravel().astype(int)
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
                # == est.fit_estimate_categorical(x, labels, mi_dist_params=...), split in
                # its two documented steps so that fit and bootstrap are timed apart.
                est.fit_categorical(X=x, Y=labels)
                t1 = time.perf_counter()
                mi_mean, mi_std = est.estimate_categorical(
                    mi_dist_params=MIDistParamHolder(n_bootstrap=n_boot))
                t2 = time.perf_counter()
        params = est.__dict__.get("category_best_params") or []
        record.update(
            ok=True,
            time_s=t2 - t0,
            fit_s=t1 - t0,
            bootstrap_s=t2 - t1,
            mi=float(mi_mean),
            std=float(mi_std) if mi_std is not None else None,
            class_n_components=[int(p["bc"]) for p in params],
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

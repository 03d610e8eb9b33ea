"""``import bayes_gmm_mi`` stays light: heavy dependencies are imported where used.

JAX alone takes ~2 s to import; it, NumPyro, ArviZ, xarray, pandas, matplotlib,
SciPy, scikit-learn, tqdm and Dask are imported on first use (a fit, a plot, a
conversion), never by the import of the package. Checked in a fresh interpreter
by what lands in ``sys.modules`` (deterministic), not by timing.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

HEAVY = ("jax", "jaxlib", "numpyro", "arviz", "xarray", "pandas", "matplotlib", "scipy",
         "sklearn", "tqdm", "dask", "distributed")


def _loaded_after(statement: str) -> list[str]:
    """Top-level names of the heavy packages in ``sys.modules`` after ``statement``."""
    code = (
        f"import json, sys\n{statement}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", [
    "import bayes_gmm_mi",
    "from bayes_gmm_mi import *",
    "from bayes_gmm_mi import GMMMI, GMMCategoricalMI, MIResult, mutual_information, "
    "mi_matrix, compare, datasets",
    "import bayes_gmm_mi.datasets",
    "import bayes_gmm_mi.plotting",
    "import bayes_gmm_mi.cli",
])
def test_import_loads_no_heavy_dependency(statement):
    assert _loaded_after(statement) == [], f"{statement!r} imported heavy packages"


def test_star_import_gives_all_public_names():
    import bayes_gmm_mi

    for name in bayes_gmm_mi.__all__:
        assert hasattr(bayes_gmm_mi, name), name


def test_version_is_the_installed_distribution_version():
    import bayes_gmm_mi

    assert bayes_gmm_mi.__version__ == importlib.metadata.version("bayes_gmm_mi")


def test_the_package_does_not_import_sklearn():
    """scikit-learn is a test/study dependency only ([dev], [study] extras), not the package's."""
    import pathlib
    import re

    import bayes_gmm_mi

    root = pathlib.Path(bayes_gmm_mi.__file__).parent
    pattern = re.compile(r"^\s*(import sklearn|from sklearn\b)", re.MULTILINE)
    offenders = [str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []

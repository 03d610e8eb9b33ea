"""Study of the permutation independence test (issue 15): false-positive rate on
independent data of several kinds, and power on weak dependence. Run
``python -m studies.independence`` from the repository root."""

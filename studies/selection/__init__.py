"""Pilot study: which component-selection rule and marginal transform calibrate the
bootstrap (issue 14). Run ``python -m studies.selection`` from the repository root."""

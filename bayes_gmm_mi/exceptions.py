"""Warnings raised by bayes_gmm_mi (numerical trouble gets a warning and an answer)."""

__all__ = ["ConvergenceWarning", "DegenerateComponentWarning"]


class ConvergenceWarning(UserWarning):
    """EM (or a sampler) stopped before its convergence criterion was met."""


class DegenerateComponentWarning(UserWarning):
    """A mixture component emptied or collapsed and was dropped from the fit."""

"""Warnings raised by bayes_gmm_mi (numerical trouble gets a warning and an answer)."""

__all__ = ["ConvergenceWarning", "DegenerateComponentWarning", "MisspecificationWarning"]


class ConvergenceWarning(UserWarning):
    """EM (or a sampler) stopped before its convergence criterion was met."""


class DegenerateComponentWarning(UserWarning):
    """A mixture component emptied or collapsed and was dropped from the fit."""


class MisspecificationWarning(UserWarning):
    """The fitted mixture may not describe the data well enough for its MI to be trusted.

    Raised, for example, when mixtures fitted to two representations of the same
    rows (the data's own coordinates and the normal scores of their ranks) give
    MI values that differ by more than their errors allow: MI is the same in
    both, so at least one mixture is misspecified. The interval then spans both.
    """

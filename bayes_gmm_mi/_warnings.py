"""Warnings that point at the user's line, however deep inside the package they arise.

A fixed ``stacklevel`` is right for one call path and wrong for the next (the same
warning is reached from ``mutual_information``, ``GMMMI.fit`` and ``mi_matrix``
through different depths). :func:`warn` instead walks out of the package and
attributes the warning to the first frame outside it: the user's script,
notebook cell or test.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

__all__ = ["warn", "user_stacklevel"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the caller of this
    function, point at the first frame outside ``bayes_gmm_mi``."""
    frame: FrameType | None = sys._getframe(1)  # the function that will call warnings.warn
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` attributed to the user's line."""
    warnings.warn(message, category, stacklevel=user_stacklevel())

"""``get_params``/``set_params`` in scikit-learn's convention, without importing it.

Importing ``sklearn.base`` costs about 0.6 s (it pulls in scipy.stats), a large
share of a command-line run. These two methods are all that ``sklearn.base.clone``
and grid searches need from an estimator whose ``__init__`` only stores its
arguments.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Parameters are the keyword arguments of ``__init__``, stored as attributes."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility (no parameter is an estimator).

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        """Set parameters; unknown names raise ``ValueError``. Returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters: {', '.join(valid)}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}" for name, value in self.get_params().items()
            if not (value is defaults.get(name) or value == defaults.get(name))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

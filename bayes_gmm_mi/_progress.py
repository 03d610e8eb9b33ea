"""Optional progress bars (tqdm, on stderr), shown only when asked for."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass


@contextmanager
def progress_bar(enabled: bool, total: int | None, desc: str) -> Iterator[object]:
    """A tqdm bar when ``enabled``, otherwise an object whose methods do nothing."""
    if not enabled:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)
    try:
        yield bar
    finally:
        bar.close()

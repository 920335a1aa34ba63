"""Progress bars for the long command-line jobs (`departments import`, `commitments import`, `lexicon check`,
`report`): drawn with rich on a terminal, silent when the output is piped or redirected (cron, CI, logs)."""

from __future__ import annotations

import sys
from typing import TextIO


class Bar:
    """`with Bar("导入部门", total=139) as bar: ... bar.advance()`; total None: an activity bar without a count.

    Draws on `stream` (stderr by default, so stdout stays the command's result) only when that is a terminal;
    `enabled` overrides the check (tests)."""

    def __init__(self, description: str, total: int | None = None, *, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.description, self.total = description, total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self._progress = self._task = None

    def __enter__(self) -> Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, force_terminal=True)
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=console, transient=False)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def set_total(self, total: int) -> None:
        self.total = total
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            if self.total is None:
                self._progress.update(self._task, total=1, completed=1)
            self._progress.stop()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["Bar"]

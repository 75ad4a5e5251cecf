"""The one error a user sees: file, layer path, offending value, on one line."""

from __future__ import annotations


class SpecError(Exception):
    """A spec (or an argument) that cannot be analysed.

    ``str(err)`` is the whole one-line message the CLI prints: ``file: layer.path: what is wrong``.
    """

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None) -> None:
        self.message = message
        self.file = file
        self.layer = layer
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.layer) if p]
        return ": ".join([*parts, " ".join(self.message.split())])

    def at(self, *, file: str | None = None, layer: str | None = None) -> "SpecError":
        """The same error with context filled in where it was still missing."""
        return SpecError(self.message, file=self.file or file, layer=self.layer or layer)

"""The error every config parser raises: where (a dotted key path, and a file and line when known)
and what is wrong, in words a user can act on.

It sits below every layer (next to smsc.slotted), outside the smsc.config package: the parsers of
smsc.routing.config and smsc.operators.config raise it, and smsc.config, which reads the files
and assembles their results, sits above them."""

from __future__ import annotations


class ConfigError(ValueError):
    def __init__(
        self, path: str, message: str, *, file: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.file = file
        self.line = line

    def located(self, file: str | None, line: int | None) -> ConfigError:
        return ConfigError(self.path, self.message, file=file, line=line)

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.path}: {self.message}" if self.path else f"{prefix}{self.message}"

"""Format files (TOML) a user names by path, or by the stem of one shipped in a package: the
one loader of `--cdr-format` (`auditor/pbx_formats/`) and `--records-format`
(`auditor/records_formats/`). Each format module checks the table it gets; this only finds and
reads it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from auditor.errors import InputError

SUFFIX = ".toml"


@dataclass(frozen=True)
class FormatFile:
    """A loaded format file: its TOML table and the stem it goes by."""

    data: dict[str, Any]
    stem: str


@dataclass(frozen=True)
class FormatFiles:
    """The format files shipped in `package`; `what` names them in errors (`format file`)."""

    package: str
    what: str

    def shipped(self) -> list[str]:
        """The shipped files' names (stems), sorted."""
        root = resources.files(self.package)
        return sorted(
            p.name.removesuffix(SUFFIX) for p in root.iterdir() if p.name.endswith(SUFFIX)
        )

    def load(self, spec: str) -> FormatFile:
        """The file at path `spec`, or the shipped one named `spec`; InputError naming `spec`
        when there is none, or it cannot be read or is not TOML."""
        path = format_path(spec)
        if path is not None:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(spec, f"cannot be read ({exc})") from None
            stem = path.stem
        elif spec in self.shipped():
            text = resources.files(self.package).joinpath(f"{spec}{SUFFIX}").read_text("utf-8")
            stem = spec
        else:
            known = ", ".join(self.shipped())
            raise InputError(spec, f"no such {self.what} (shipped formats: {known})")
        try:
            return FormatFile(tomllib.loads(text), stem)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(spec, f"not valid TOML ({exc})") from None


def format_path(spec: str) -> Path | None:
    """The file `spec` names when it is a path (None for a shipped name)."""
    path = Path(spec)
    return path if path.is_file() else None

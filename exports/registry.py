"""The export formats: each writer module registers its formats here by name (the names the
export_review command and the exports page use).

A writer is `write(review, out, *, progress, options)`: it writes the whole file to `out`
(a binary file opened for writing), streaming, and calls `progress(fraction, message="")`
now and then (0 to 1; the task keeps the job's progress bar and heartbeat from it). It
raises ExportError with a message for the lead when the export cannot be made.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


class ExportError(Exception):
    """An export that cannot be made; the message says why, for the lead."""


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    content_type: str
    group: str
    write: Callable = field(compare=False)
    description: str = ""


FORMATS = {}
GROUPS = ["PRISMA", "Screening", "Included studies", "Coding", "REFI-QDA",
          "Advisory Group", "Archive"]  # fmt: skip


def register(name, *, label, extension, content_type, group, description=""):
    """Decorator: register `write` under `name`."""
    if group not in GROUPS:
        raise ValueError(f"unknown export group {group!r}")

    def decorate(write):
        if name in FORMATS:
            raise ValueError(f"export format {name!r} registered twice")
        FORMATS[name] = Format(name=name, label=label, extension=extension,
                               content_type=content_type, group=group, write=write,
                               description=description)  # fmt: skip
        return write

    return decorate


def get_format(name):
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ExportError(f"There is no export format called “{name}”. Known: {known}.") from None


def no_progress(fraction, message=""):
    """A progress callback for callers that do not track it."""

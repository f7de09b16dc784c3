"""What every parser yields, and how a parser reports a problem."""

from dataclasses import dataclass, field


class ImportFileError(Exception):
    """The whole file is rejected. The message names the file, the entry or line, and the
    problem, in words a reviewer can act on."""

    def __init__(self, problem, *, filename="", entry=None, line=None):
        self.problem = problem
        self.filename = filename
        self.entry = entry
        self.line = line
        super().__init__(self.message)

    @property
    def message(self):
        where = []
        if self.entry is not None:
            where.append(f"entry {self.entry}")
        if self.line is not None:
            where.append(f"line {self.line}")
        prefix = self.filename or "the file"
        if where:
            prefix += f" ({', '.join(where)})"
        return f"{prefix}: {self.problem}"


@dataclass
class ParsedEntry:
    """One bibliographic entry as found in a file.

    `raw` keeps every field of the source entry (tag or column -> value or list of values),
    so nothing from the file is thrown away. The other fields are the parser's mapping of
    the source's fields; `screening.importers.normalise.normalise_entry` cleans them.
    """

    position: int  # 1-based position of the entry in its file
    raw: dict
    source_id: str = ""  # the entry's own ID: RIS ID/AN, PMID, WoS UT, CSV id, BibTeX key
    line: int | None = None  # line where the entry starts, for messages
    title: str = ""
    abstract: str = ""
    authors: list = field(default_factory=list)  # "Surname, Given" strings, in order
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    keywords: list = field(default_factory=list)
    language: str = ""
    publication_type: str = ""

    @property
    def is_empty(self):
        """Entries with neither title nor abstract are counted and listed, not imported."""
        return not (self.title.strip() or self.abstract.strip())

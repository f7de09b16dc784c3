"""Inter-coder agreement of two coders on one document version, per code: percent agreement
and Cohen's kappa, each with the 2x2 table it was computed from.

The maths (`agreement_table`) is pure: plain offsets in, dataclasses out. Only
`document_agreement` touches the database, to load the excerpts.

Input
    ``length``, the version's length in code points, and for each coder a list of spans
    ``(start, end, codes)``: an excerpt's half-open range [start, end) in code points and the
    set of code ids applied to it. A span with no codes is not coding and is ignored (it
    neither cuts segments nor makes text "coded").

Units
    *Elementary segments*: [0, length) cut at every start and end of every excerpt of either
    coder, whatever its codes. In each segment a coder's codes are the union of the codes of
    that coder's excerpts covering it.

    *Coded* text is covered by at least one excerpt (with any code) of either coder. By
    default only coded text is compared: text nobody coded would otherwise count as agreement
    on every code and inflate the figures (NVivo's known flaw). ``include_uncoded=True``
    compares the whole document; each gap between boundaries is then one more segment.

    For a code C each coder labels each unit 1 if C covers it, else 0 (codes are taken as
    applied: an excerpt coded with a child of C does not count as C).

    * ``level="segment"`` (excerpt level): each segment is one unit, whatever its length.
    * ``level="character"``: each segment weighs its length, so every code point is a unit.

Figures
    n = units (or characters); both / only_a / only_b / neither = the 2x2 table;
    percent agreement = 100 * (both + neither) / n; Cohen's kappa = (po - pe) / (1 - pe) with
    po = (both + neither) / n and pe = pA1 * pB1 + pA0 * pB0, pX1 being coder X's share of
    units labelled 1. pe is a SUM of the two products: QualCoder multiplies them, which is
    wrong. Kappa is undefined (None, with ``kappa_note``) when pe == 1, i.e. both coders gave
    the same single label to every unit; with n == 0 the percentage is None as well.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from dataclasses import asdict, dataclass
from itertools import groupby
from operator import itemgetter

from coding.models import ExcerptCode

__all__ = [
    "CHARACTER_UNIT",
    "CODED_CHARACTER_UNIT",
    "LEVELS",
    "NOTE_ONE_LABEL",
    "NOTE_NO_UNITS",
    "SEGMENT_UNIT",
    "SEGMENT_UNIT_WITH_UNCODED",
    "CodeAgreement",
    "agreement_table",
    "document_agreement",
    "unit_description",
]

CodeId = Hashable
Span = tuple[int, int, Collection[CodeId]]

LEVELS = ("segment", "character")

# Shown on screen next to the figures, so the reader knows what n counts.
SEGMENT_UNIT = (
    "coded segment: a stretch of text between consecutive excerpt boundaries (either coder's) "
    "that at least one of the two coders coded"
)
SEGMENT_UNIT_WITH_UNCODED = (
    "segment: a stretch of text between consecutive excerpt boundaries (either coder's), "
    "coded or not"
)
CODED_CHARACTER_UNIT = (
    "coded character: a character (Unicode code point) that at least one of the two coders coded"
)
CHARACTER_UNIT = "character (Unicode code point)"

NOTE_ONE_LABEL = "not defined: both coders gave the same single label to every unit"
NOTE_NO_UNITS = "not defined: there is nothing to compare (no coded text, or an empty document)"


def unit_description(level: str, include_uncoded: bool) -> str:
    _check_level(level)
    if level == "segment":
        return SEGMENT_UNIT_WITH_UNCODED if include_uncoded else SEGMENT_UNIT
    return CHARACTER_UNIT if include_uncoded else CODED_CHARACTER_UNIT


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement of coder A and coder B on one code.

    ``n`` counts units (segments, or characters at character level) and equals
    ``both + only_a + only_b + neither``. ``percent_agreement`` is 0-100 and None only when
    n == 0; ``kappa`` is None when undefined, and ``kappa_note`` then says why ("" otherwise).
    """

    code_id: CodeId
    unit: str
    n: int
    both: int
    only_a: int
    only_b: int
    neither: int
    percent_agreement: float | None
    kappa: float | None
    kappa_note: str = ""

    @property
    def agreed(self) -> int:
        return self.both + self.neither

    def as_dict(self) -> dict:
        return asdict(self)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")


def _from_counts(code_id, unit, both, only_a, only_b, neither) -> CodeAgreement:
    n = both + only_a + only_b + neither
    agreed = both + neither
    if n == 0:
        return CodeAgreement(code_id, unit, 0, 0, 0, 0, 0, None, None, NOTE_NO_UNITS)
    a1, b1 = both + only_a, both + only_b
    # pe * n**2, kept in integers so the pe == 1 test is exact.
    expected = a1 * b1 + (n - a1) * (n - b1)
    if expected == n * n:
        kappa, note = None, NOTE_ONE_LABEL
    else:
        kappa, note = (agreed * n - expected) / (n * n - expected), ""
    return CodeAgreement(
        code_id, unit, n, both, only_a, only_b, neither, 100 * agreed / n, kappa, note
    )


def agreement_table(
    length: int,
    spans_a: Iterable[Span],
    spans_b: Iterable[Span],
    code_ids: Iterable[CodeId],
    *,
    level: str = "segment",
    include_uncoded: bool = False,
) -> list[CodeAgreement]:
    """One `CodeAgreement` per code of ``code_ids`` (in that order, duplicates dropped), coder
    A's spans against coder B's (see the module docstring for the definitions).

    Raises ValueError for a span with end <= start or reaching outside [0, length], or an unknown
    level. Runs in O(E log E + K) for E excerpts and K codes (plus the codes applied): one
    sweep over the boundaries, never an array per character.
    """
    _check_level(level)
    unit = unit_description(level, include_uncoded)
    wanted = list(dict.fromkeys(code_ids))
    index = {code: i for i, code in enumerate(wanted)}

    # (position, coder, +1 opening / -1 closing, indexes of the wanted codes it carries)
    events = []
    for coder, spans in enumerate((spans_a, spans_b)):
        for start, end, codes in spans:
            if not 0 <= start < end <= length:
                raise ValueError(f"span [{start}, {end}) is empty or outside [0, {length}]")
            if not codes:
                continue
            tracked = [index[code] for code in codes if code in index]
            events.append((start, coder, 1, tracked))
            events.append((end, coder, -1, tracked))
    events.sort(key=itemgetter(0))

    # Each code's table is filled lazily: `weight` is the running total of units swept so
    # far, and a code adds (weight - since[i]) to the cell it sat in only when its state
    # changes, so a boundary costs O(codes it carries), not O(all codes).
    count = len(wanted)
    depth = ([0] * count, [0] * count)  # excerpts of coder A / B carrying the code, here
    state = [0] * count  # cell index: 2 * (A has it) + (B has it)
    since = [0] * count
    cells = [[0, 0, 0, 0] for _ in range(count)]  # neither, only_b, only_a, both
    covering = 0  # excerpts of either coder covering the current position
    weight = 0
    previous = 0
    for position, group in groupby(events, key=itemgetter(0)):
        if position > previous and (covering or include_uncoded):
            weight += 1 if level == "segment" else position - previous
        previous = position
        for _, coder, delta, tracked in group:
            covering += delta
            for i in tracked:
                cells[i][state[i]] += weight - since[i]
                since[i] = weight
                depth[coder][i] += delta
                state[i] = 2 * (depth[0][i] > 0) + (depth[1][i] > 0)
    # Nothing covers the tail after the last boundary: it counts only as uncoded text.
    if length > previous and include_uncoded:
        weight += 1 if level == "segment" else length - previous
    for i in range(count):
        cells[i][state[i]] += weight - since[i]

    return [
        _from_counts(code, unit, both, only_a, only_b, neither)
        for code, (neither, only_b, only_a, both) in zip(wanted, cells, strict=True)
    ]


def document_agreement(
    version, coder_a, coder_b, codes, *, level: str = "segment", include_uncoded: bool = False
) -> list[CodeAgreement]:
    """`agreement_table` for two coders' excerpts on one DocumentVersion, in one query.

    ``coder_a`` / ``coder_b`` are users or their ids; ``codes`` are Code objects or ids, each
    compared exactly as applied (pass descendants explicitly if wanted). Every code the two
    coders applied on the version still shapes the segments and the coded text, whichever
    codes are asked for.
    """
    coder_ids = [getattr(coder, "pk", coder) for coder in (coder_a, coder_b)]
    rows = ExcerptCode.objects.filter(
        excerpt__version=version, excerpt__coder_id__in=coder_ids
    ).values_list("excerpt_id", "excerpt__coder_id", "excerpt__start", "excerpt__end", "code_id")
    excerpts: dict[int, tuple[int, int, int, set]] = {}
    for excerpt_id, coder_id, start, end, code_id in rows:
        excerpts.setdefault(excerpt_id, (coder_id, start, end, set()))[3].add(code_id)
    spans: dict[int, list[Span]] = {coder_id: [] for coder_id in coder_ids}
    for coder_id, start, end, applied in excerpts.values():
        spans[coder_id].append((start, end, frozenset(applied)))
    return agreement_table(
        version.length,
        spans[coder_ids[0]],
        spans[coder_ids[1]],
        [getattr(code, "pk", code) for code in codes],
        level=level,
        include_uncoded=include_uncoded,
    )

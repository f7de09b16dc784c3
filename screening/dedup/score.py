"""One numeric score per candidate pair, plus the vetoes that forbid an automatic merge.

The score is a logistic function of summed evidence (log-odds, in the manner of the
Fellegi-Sunter record-linkage model): every field both records have either supports the match
(a positive weight) or speaks against it (a negative weight); a field one record lacks adds
nothing. The weights are round numbers chosen by reasoning about how often the field agrees by
chance, then checked on the benchmark; they are not fitted to it.

Vetoes follow bib-dedupe's non-duplicate conditions: a difference that two records of the same
work (almost) never show, such as different DOIs or first pages. A vetoed pair never merges
automatically, whatever its score. Each veto also costs evidence, so which vetoed pairs reach
the human queue (score >= REVIEW_THRESHOLD) follows from the rest of the evidence: a pair with
one conflicting detail while everything else agrees (two DOIs for one abstract, a supplement's
page number given two ways: the data errors a person should judge) is queued, near the top; a
pair with several conflicts (another journal, volume and pages: a meeting abstract and the
later article) scores below REVIEW_THRESHOLD and is not shown. On the diabetes set the queue
holds 44 pairs (6 decisions once grouped), its duplicates ranked first.
"""

import math
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

# A pair at or above this merges without a human (unless vetoed). 0.99 = evidence of +4.6. The
# same title, authors and year alone reach +4 (0.982) and wait for a person: one more agreeing
# detail is needed (journal, volume, pages, abstract), or a shared DOI or PMID. On the diabetes
# set no distinct pair without a veto scores above 0.03 and no true pair below 0.995.
AUTO_MERGE_THRESHOLD = 0.99
# A pair at or above this (and below AUTO_MERGE_THRESHOLD, or vetoed) waits in the duplicates
# queue, best first. 0.5 = evidence of 0: the title agrees but nothing else corroborates.
REVIEW_THRESHOLD = 0.5

BIAS = -4.0  # most candidate pairs that share a key are distinct works
DIGITS_RE = re.compile(r"\d+")
# A title at least this long (squeezed) that is the start of the other may have been cut by a
# database's field limit; shorter ones are the other title without its subtitle.
TRUNCATED_TITLE = 100

# Vetoes. Each names a difference that two copies of the same work do not show, so a vetoed
# pair is never merged without a person.
VETO_DOI = "different DOIs"
VETO_PMID = "different PMIDs"
VETO_YEAR = "years more than 1 apart"
VETO_VOLUME = "different volumes"
VETO_PAGES = "different first pages"
VETO_KIND = "notice vs article"
VETO_TITLE_NUMBERS = "different numbers in titles"
VETO_VENUE = "conference abstract vs article in another journal"


@dataclass(frozen=True, slots=True)
class PairScore:
    score: float  # 0..1; >= AUTO_MERGE_THRESHOLD and no vetoes: merge automatically
    vetoes: tuple = ()  # reasons this pair must not merge automatically
    explanation: str = ""  # the evidence, short, for the queue page

    @property
    def auto_merge(self):
        return self.score >= AUTO_MERGE_THRESHOLD and not self.vetoes

    @property
    def needs_review(self):
        return self.score >= REVIEW_THRESHOLD and not self.auto_merge


def title_similarity(a, b):
    """0..1 similarity of two normalised titles.

    The squeezed comparison absorbs split words and symbols ("d isease", "ApoE -/-"), the
    token-sorted one reordered words; a title that is a long prefix of the other was cut by a
    database's field limit; translated titles are compared with each other's original.
    """
    x, y = a.title_sq, b.title_sq
    if not x or not y:
        return 0.0
    if x == y:
        return 1.0
    best = max(fuzz.ratio(x, y), fuzz.token_sort_ratio(a.title, b.title))
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 60 and long.startswith(short):
        best = max(best, 95.0)
    if a.alt_title or b.alt_title:
        xs = [x] + ([a.alt_title.replace(" ", "")] if a.alt_title else [])
        ys = [y] + ([b.alt_title.replace(" ", "")] if b.alt_title else [])
        for p in xs:
            for q in ys:
                if p is not x or q is not y:
                    best = max(best, fuzz.ratio(p, q))
    return best / 100.0


def title_numbers_differ(a, b):
    """True when the titles carry different numbers ("part 1"/"part 2", "12-week"/"24-week").

    Numbers are read from the squeezed titles, so "GLP-1 (9-37)" and "GLP-1(9-37)" agree. A
    long title cut short by a field limit may lack the other's trailing numbers; a short title
    that is the start of a longer one is not cut but a different work ("X" and "X: part 2").
    """
    m, n = DIGITS_RE.findall(a.title_sq), DIGITS_RE.findall(b.title_sq)
    if m == n or not a.title_sq or not b.title_sq:
        return False
    short, long = sorted((a.title_sq, b.title_sq), key=len)
    if len(short) >= TRUNCATED_TITLE and long.startswith(short[:-2]):
        ms, ml = DIGITS_RE.findall(short), DIGITS_RE.findall(long)
        whole = ms[:-1] if short[-1:].isdigit() else ms  # the cut may split the last number
        if ml[: len(whole)] == whole:
            return False
    return True


def author_similarity(a, b):
    """0..1 from the first authors' surnames and the overlap of the first ten; None if unknown.

    Surnames only: one database gives "Smith, John", another "Smith J." or "J. Smith".
    """
    if not a.authors or not b.authors:
        return None
    first = fuzz.ratio(a.first_author, b.first_author) / 100.0
    sa, sb = set(a.authors[:10]), set(b.authors[:10])
    overlap = len(sa & sb) / min(len(sa), len(sb))
    return 0.5 * first + 0.5 * overlap


def _abbreviates(p, q):
    """Word p abbreviates word q or the reverse: "cardiol"/"cardiology", "natl"/"national".

    ISO 4 abbreviations keep the first letter and drop letters, so the shorter word is a
    subsequence of the longer one that starts with the same letter.
    """
    if len(p) > len(q):
        p, q = q, p
    if not p or p[0] != q[0]:
        return False
    if q.startswith(p):
        return True
    letters = iter(q)
    return all(c in letters for c in p)


def journal_similarity(x, y):
    """0..1 for two normalised journal names, loose about abbreviations; None if unknown.

    "j am coll cardiol" ~ "j am college cardiology" and "proc natl acad sci" ~ "proceedings
    national academy sciences" (word by word, each an abbreviation of the other), "bmj" ~
    "br medical j" (initials), otherwise rapidfuzz's ratio.
    """
    if not x or not y:
        return None
    if x == y:
        return 1.0
    wx, wy = x.split(), y.split()
    if len(wx) == len(wy) and all(map(_abbreviates, wx, wy)):
        return 1.0
    if len(wx) == 1 and len(wy) > 1 and wx[0] == "".join(w[0] for w in wy):
        return 1.0
    if len(wy) == 1 and len(wx) > 1 and wy[0] == "".join(w[0] for w in wx):
        return 1.0
    ratio = fuzz.ratio(x, y) / 100.0
    # One name runs on where the other stops ("atherosclerosis supplements", a translated
    # title after the original): related, but "diabetes" and "diabetes care" are two journals.
    short, long = (wx, wy) if len(wx) < len(wy) else (wy, wx)
    if all(map(_abbreviates, short, long)):
        return max(ratio, 0.8)
    return ratio


def _volume_conflict(a, b):
    """Volumes both present and different, and not explained by a misfiled field.

    Exports often put the issue or supplement number where the volume belongs ("61 (10)" read
    as volume "10"); when that explains the difference, or when the first pages agree (a second
    location detail that agrees outweighs one that looks garbled), it is not a conflict.
    """
    if not a.volume or not b.volume or a.volume == b.volume:
        return False
    if a.volume == b.issue or b.volume == a.issue:
        return False
    return not (a.first_page and a.first_page == b.first_page)


def _pages_conflict(p, q):
    """First pages that differ, unless one is the other with leading digits lost.

    "1428" and "428" (of three digits or more) are one page mistyped or cut by an export,
    as bib-dedupe's page similarity also assumes; "5" and "15" are not trusted that way.
    """
    short, long = (p, q) if len(p) < len(q) else (q, p)
    return not (len(short) >= 3 and long.endswith(short))


def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def score_pair(a, b):
    """PairScore for two DedupFields."""
    evidence = BIAS
    notes = []
    vetoes = []

    t = title_similarity(a, b)
    # +5 for identical titles, 0 at 0.875, -3 at 0.8: below ~0.85 titles are different works.
    evidence += max(-8.0, min(5.0, 40.0 * (t - 0.875)))
    notes.append(f"title {t:.2f}")
    if title_numbers_differ(a, b):
        # "Part 1" and "Part 2", "type 1" and "type 2" diabetes: a different number in
        # otherwise equal titles makes a different study.
        vetoes.append(VETO_TITLE_NUMBERS)
        evidence -= 3.0

    if a.doi and b.doi:
        if a.doi == b.doi:
            evidence += 5.0
            notes.append("same DOI")
        else:
            # A DOI identifies one work. Beware: some databases give a chapter's, a
            # supplement's or an erratum's DOI, so the pair is only kept from merging
            # automatically, and may still reach the queue.
            vetoes.append(VETO_DOI)
            evidence -= 2.0
            notes.append("DOIs differ")
    if a.pmid and b.pmid:
        if a.pmid == b.pmid:
            evidence += 5.0
            notes.append("same PMID")
        else:
            # PubMed assigns one PMID per citation; two PMIDs are two citations (an article and
            # its erratum or comment, or two parts).
            vetoes.append(VETO_PMID)
            evidence -= 3.0
            notes.append("PMIDs differ")

    au = author_similarity(a, b)
    if au is not None:
        evidence += 4.0 * (au - 0.5)
        notes.append(f"authors {au:.2f}")

    if a.year and b.year:
        gap = abs(a.year - b.year)
        if gap == 0:
            evidence += 1.0
        elif gap == 1:
            # Online-first and print years differ by one: no evidence either way.
            notes.append("years 1 apart")
        else:
            # Two years or more apart: an update, a reprint or a later paper with the same
            # title (e.g. a conference abstract and the article years later).
            vetoes.append(VETO_YEAR)
            evidence -= 3.0
            notes.append(f"years {a.year}/{b.year}")

    js = journal_similarity(a.journal, b.journal)
    if js is not None:
        if js >= 0.9:
            evidence += 1.0
            notes.append("same journal")
        elif js < 0.5:
            evidence -= 1.0
            notes.append("journals differ")
            if a.is_abstract_only != b.is_abstract_only:
                # A meeting abstract and a journal article elsewhere: the study presented,
                # then published; two records to keep (ASySD's and bib-dedupe's gold agree).
                vetoes.append(VETO_VENUE)
                evidence -= 1.0

    if a.volume and b.volume:
        if a.volume == b.volume:
            evidence += 1.0
        elif _volume_conflict(a, b):
            # Same title in another volume: typically the conference abstract (supplement)
            # and the journal article, or an annual report. Not the same work.
            vetoes.append(VETO_VOLUME)
            evidence -= 2.0
            notes.append("volumes differ")
    if a.issue and b.issue:
        evidence += 0.5 if a.issue == b.issue else -0.5
    if a.first_page and b.first_page:
        if a.first_page == b.first_page:
            evidence += 1.5
        elif _pages_conflict(a.first_page, b.first_page):
            # Different first pages: two items (e.g. two abstracts in one supplement, or an
            # article and its correction in a later issue).
            vetoes.append(VETO_PAGES)
            evidence -= 2.0
            notes.append("pages differ")
        else:
            notes.append("pages alike")

    if len(a.abstract) >= 100 and len(b.abstract) >= 100:
        ab = fuzz.ratio(a.abstract, b.abstract) / 100.0
        if ab >= 0.9:
            evidence += 1.5
            notes.append("same abstract")
        elif ab >= 0.75:
            evidence += 0.5

    if a.kind != b.kind:
        # An erratum, comment or retraction notice shares its article's title words and
        # authors but is a separate record that must stay.
        vetoes.append(VETO_KIND)
        evidence -= 4.0
        notes.append(f"{a.kind} vs {b.kind}")

    score = round(_logistic(evidence), 4)
    explanation = ", ".join(notes)
    if vetoes:
        explanation += "; not merged automatically: " + ", ".join(vetoes)
    return PairScore(score=score, vetoes=tuple(vetoes), explanation=explanation[:500])

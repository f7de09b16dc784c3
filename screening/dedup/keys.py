"""Blocking keys: the four indexed columns through which a new batch finds its candidates.

Two records are compared only if they share a key value in the same column. Keys are exact
strings of at most 255 characters; "" means "no key" and never matches.

- key_doi: the normalised DOI.
- key_pmid: the PubMed ID.
- key_title: the first 40 characters of the squeezed, folded title (no spaces or punctuation),
  after prepare() removed markup, language tags, "[...]" brackets and labels such as "Review:".
  Robust to everything that normalisation absorbs and to a title cut short by a field limit
  or missing its subtitle. Short titles ("Editorial", "Reply", "Diabetes": under 20
  characters) get the first author's surname and the year appended, so that the thousands of
  editorials of a large review do not share one key.
- key_alt: "surname|first page" of the first author, independent of the title, so it finds
  what the title prefix misses (a typo or a different word near the start, a mangled
  character). Without a first page or author it is "~" + the last 30 characters of the
  squeezed title instead (titles of 40 characters or more), which catches the same failures
  for records without pagination. The two forms cannot collide ("|" vs "~").

Why these, measured (bench/dedup_bench.py data):
- ASySD diabetes set (1,845 records, 2,555 gold duplicate pairs): key_title alone puts every
  gold pair in a shared block; with the four keys find_pairs scores 3,426 pairs instead of
  1.7 million, the largest block holding 12 records.
- Synthetic 100,000-record set (duplicates with the real differences between databases, plus
  planted near-duplicates with a title typo and no DOI/PMID): records left with no key shared
  with any other record of their work: DOI + PMID + title prefix alone 1,331; adding as key_alt
  the title suffix 248 (and 363,000 pairs in its blocks, largest 237), first author + year +
  first page 526 (the year is often one off between databases), first author + first page 182
  (128,000 pairs, largest block 14), first author + first page or else the title suffix 39
  (149,000 pairs, largest block 48): the chosen key.
"""

KEY_NAMES = ("key_doi", "key_pmid", "key_title", "key_alt")
KEY_MAX_LENGTH = 255
TITLE_PREFIX = 40
TITLE_SUFFIX = 30
SHORT_TITLE = 20  # below this many squeezed characters a title alone is too common a key
SUFFIX_MIN_LENGTH = 40  # below this the title suffix adds little to the prefix


def blocking_keys(fields):
    """{"key_doi", "key_pmid", "key_title", "key_alt"} -> key string ("" when absent)."""
    return keys_of(
        fields.title_sq, fields.first_author, fields.year, fields.first_page, fields.doi,
        fields.pmid,
    )  # fmt: skip


def keys_of(title, first_author, year, first_page, doi, pmid):
    """blocking_keys() of a DedupFields with these values (as fields.key_fields() gives)."""
    if not title:
        key_title = ""
    elif len(title) < SHORT_TITLE:
        key_title = f"{title}|{first_author}|{year or ''}"
    else:
        key_title = title[:TITLE_PREFIX]
    if first_author and first_page:
        key_alt = f"{first_author}|{first_page}"
    elif len(title) >= SUFFIX_MIN_LENGTH:
        key_alt = "~" + title[-TITLE_SUFFIX:]
    else:
        key_alt = ""
    return {
        "key_doi": doi[:KEY_MAX_LENGTH],
        "key_pmid": pmid[:KEY_MAX_LENGTH],
        "key_title": key_title[:KEY_MAX_LENGTH],
        "key_alt": key_alt[:KEY_MAX_LENGTH],
    }

"""Record text to features: TF-IDF over title, abstract and keywords, plus a title block.

The vectorizers are fitted on every record of the pool being ranked, labelled or not: that is
unsupervised (document frequencies only), so it leaks no decision, and it lets words that
only unscreened records share still tell them apart. A simulation fits once and reuses the
matrix across its retrains; the app fits once per ranking.
"""

from collections.abc import Mapping
from typing import NamedTuple

import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

FEATURE_SETTINGS = {
    "ngram_max": 2,
    # A term in one record only cannot carry a decision over to another record; dropping
    # those makes the vocabulary (and memory at 100,000 records) about 4x smaller, and WSS@95
    # stayed within 0.01 of keeping them (Smid_2020, Kitchenham_2010, seeds 0-24).
    "min_df": 2,
    # The title again, in its own block at this weight: titles state the topic and design in
    # few words. 0.3-0.5 gave the same WSS@95; 0.7 lost 0.05 on Kitchenham_2010 and 0.03 on
    # Smid_2020, and no title block lost 0.02 on Kitchenham_2010.
    "title_weight": 0.4,
}


class RecordText(NamedTuple):
    title: str = ""
    abstract: str = ""
    keywords: str = ""


def record_text(item):
    """A RecordText from a RecordText, a (title, abstract[, keywords]) tuple, a mapping with
    those keys, or a plain string (taken as the abstract: no title block)."""
    if isinstance(item, str):
        return RecordText(abstract=item)
    if isinstance(item, Mapping):
        item = (item.get("title"), item.get("abstract"), item.get("keywords"))
    title, abstract, keywords = (*item, None, None)[:3]
    if keywords and not isinstance(keywords, str):
        keywords = " ; ".join(keywords)
    return RecordText(title or "", abstract or "", keywords or "")


def _block(texts, *, ngram_max, min_df):
    """TF-IDF of texts; an empty block when no term survives (tiny pools, empty titles)."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, ngram_max),
        sublinear_tf=True,
        # Never more than there are records, or scikit-learn refuses a one-record pool.
        min_df=min(min_df, len(texts)),
        # No stop-word list: phrases such as "we review", "review of the" carry the
        # inclusion criterion of reviews of study designs. scikit-learn's English list cost
        # 0.17 WSS@95 on Kitchenham_2010 (0.74 -> 0.57; +0.01 on Smid_2020), and articles
        # and prepositions alone cost 0.13; IDF and sublinear tf already damp common words.
        stop_words=None,
    )
    try:
        return vectorizer.fit_transform(texts)
    except ValueError:
        # "empty vocabulary" / "no terms remain": nothing to learn from in this block.
        return sp.csr_matrix((len(texts), 0))


def vectorize(records, settings=None):
    """Sparse matrix, one L2-normalised row per record: [TF-IDF of title + abstract +
    keywords | title_weight * TF-IDF of the title]. Word 1-2-grams, sublinear tf."""
    settings = {**FEATURE_SETTINGS, **(settings or {})}
    records = [record_text(item) for item in records]
    block = {"ngram_max": settings["ngram_max"], "min_df": settings["min_df"]}
    whole = _block(
        [f"{r.title} {r.abstract} {r.keywords}" for r in records],
        **block,
    )
    titles = _block([r.title for r in records], **block)
    matrix = sp.hstack([whole, settings["title_weight"] * titles], format="csr")
    return normalize(matrix)

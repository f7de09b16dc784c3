"""Keyword highlighting: whole words, phrases, stems, longest match, and hostile input."""

import re

import pytest
from django.utils.safestring import SafeString

from screening.highlight import (
    MAX_PERSONAL_TERMS,
    MAX_TERMS,
    TermError,
    add_personal_term,
    compile_terms,
    highlight,
    remove_personal_term,
    terms_for,
)
from screening.models import HighlightTerm

MARK = re.compile(r'<mark class="term term-(include|exclude)">.*?</mark>', re.S)


def marks(html):
    """[(kind, matched text)] of the marks in `html`, markers stripped."""
    found = []
    for match in MARK.finditer(html):
        inner = match.group(0).removesuffix("</mark>").split(">", 1)[1]
        found.append((match.group(1), re.sub(r"<span[^>]*>.*?</span>", "", inner)))
    return found


def test_whole_words_case_insensitive_and_marked_beyond_colour():
    matcher = compile_terms([("harm", "include"), ("child", "exclude")])
    html = highlight("Harm to children; avoidable HARM. Child care, harmful.", matcher)
    assert isinstance(html, SafeString)
    assert marks(html) == [("include", "Harm"), ("include", "HARM"), ("exclude", "Child")]
    # Meaning is carried by text (a hidden prefix) and a glyph, not by colour alone.
    assert '<span class="visually-hidden">include term: </span>' in html
    assert '<span class="term-glyph" aria-hidden="true">+</span>' in html
    assert '<span class="visually-hidden">exclude term: </span>' in html
    assert '<span class="term-glyph" aria-hidden="true">\u2212</span>' in html


def test_stems_and_phrases_across_white_space():
    matcher = compile_terms([("social work*", "include"), ("mental health", "include")])
    html = highlight("Social workers and social\nwork; mental   health; socialwork.", matcher)
    assert marks(html) == [
        ("include", "Social workers"),
        ("include", "social\nwork"),
        ("include", "mental   health"),
    ]


def test_longest_term_wins_where_terms_overlap():
    matcher = compile_terms(
        [("harm", "include"), ("avoidable harm", "exclude"), ("care home*", "include")]
    )
    html = highlight("Avoidable harm in care homes; harm.", matcher)
    assert marks(html) == [
        ("exclude", "Avoidable harm"),
        ("include", "care homes"),
        ("include", "harm"),
    ]


def test_a_term_listed_twice_keeps_its_first_kind():
    matcher = compile_terms([("Harm", "include"), ("harm", "exclude"), ("  ", "include")])
    assert matcher.terms == (("Harm", "include"),)


def test_no_terms_just_escapes():
    matcher = compile_terms([])
    assert not matcher
    assert highlight("<b>bold</b> & more", matcher) == "&lt;b&gt;bold&lt;/b&gt; &amp; more"
    assert highlight(None, matcher) == ""


def test_hostile_text_is_escaped_inside_and_outside_marks():
    matcher = compile_terms([("script", "exclude"), ("onerror", "include")])
    text = '<script>alert("x")</script><img src=x onerror=alert(1)> & harm'
    html = highlight(text, matcher)
    assert "<script" not in html and "<img" not in html
    assert "&lt;" in html and "&quot;x&quot;" in html and "&amp; harm" in html
    assert marks(html) == [("exclude", "script"), ("exclude", "script"), ("include", "onerror")]


def test_terms_never_match_inside_the_entities_escaping_makes():
    matcher = compile_terms([("amp", "include"), ("quot", "include"), ("lt", "exclude")])
    html = highlight('Tom & "Jerry" < 3', matcher)
    assert html == "Tom &amp; &quot;Jerry&quot; &lt; 3"


def test_regex_metacharacters_in_terms_are_literal():
    matcher = compile_terms(
        [("(a+)+$", "include"), ("c++", "include"), (".*", "exclude"), ("[x]", "include")]
    )
    html = highlight("aaaa c++ code [x] anything.*", matcher)
    assert marks(html) == [("include", "c++"), ("include", "[x]")]
    # A catastrophic-backtracking pattern as a term is just text: this returns at once.
    assert highlight("a" * 5000 + "!", matcher).startswith("aaaa")


def test_html_in_a_term_is_matched_as_text_and_escaped():
    matcher = compile_terms([("<b>bold", "include")])
    html = highlight("x <b>bold</b>", matcher)
    assert marks(html) == [("include", "&lt;b&gt;bold")]
    assert "<b>" not in html


def test_number_and_length_of_terms_are_capped():
    many = [(f"word{n}", "include") for n in range(MAX_TERMS + 50)]
    matcher = compile_terms(many)
    assert len(matcher.terms) == MAX_TERMS
    long_term = compile_terms([("x" * 500, "include")])
    assert len(long_term.terms[0][0]) == 100


def test_unicode_words():
    matcher = compile_terms([("Gesundheit*", "include"), ("café", "include")])
    html = highlight("Gesundheitsförderung im Café.", matcher)
    assert marks(html) == [("include", "Gesundheitsförderung"), ("include", "Café")]


@pytest.mark.django_db
def test_personal_terms_are_mine_only(review, reviewer, reviewer2):
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    add_personal_term(review=review, user=reviewer, term="  social   work* ", kind="include")
    add_personal_term(review=review, user=reviewer, term="Social work*", kind="include")
    add_personal_term(review=review, user=reviewer2, term="child*", kind="exclude")
    mine = HighlightTerm.objects.get(user=reviewer)
    assert (mine.term, mine.kind, mine.review) == ("social work*", "include", review)
    assert [(t.term, t.user_id) for t in terms_for(review, reviewer)] == [
        ("harm", None),
        ("social work*", reviewer.pk),
    ]
    other = HighlightTerm.objects.get(user=reviewer2)
    assert remove_personal_term(review=review, user=reviewer, term_id=other.pk) == 0
    assert remove_personal_term(review=review, user=reviewer, term_id=mine.pk) == 1
    assert HighlightTerm.objects.filter(user=reviewer).count() == 0
    for bad in (" * ", "so*cial", "social *", "**"):
        with pytest.raises(TermError):
            add_personal_term(review=review, user=reviewer, term=bad, kind="include")
    with pytest.raises(TermError):
        add_personal_term(review=review, user=reviewer, term="x", kind="neither")


@pytest.mark.django_db
def test_personal_terms_are_capped(review, reviewer):
    for n in range(MAX_PERSONAL_TERMS):
        add_personal_term(review=review, user=reviewer, term=f"t{n}", kind="include")
    with pytest.raises(TermError, match="up to"):
        add_personal_term(review=review, user=reviewer, term="one more", kind="include")

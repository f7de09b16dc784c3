"""The PRISMA 2020 flow diagram renderer: well-formed accessible SVG in the PRISMA wording,
escaped user text, layout without overlaps, and table rows with the same numbers. No DB."""

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from screening.prisma_diagram import (
    PrismaCounts,
    _text_width,
    describe,
    render_svg,
    render_table_rows,
)

NS = "{http://www.w3.org/2000/svg}"

DATABASES = {
    "PsycINFO": 1234,
    "ASSIA": 1012,
    "Social Care Online": 687,
    "Web of Science": 1105,
    "SSCI": 498,
    "Social Policy and Practice": 356,
}
REASONS = {
    "Published in or before 2007": 14,
    "Not in English": 3,
    "Participants under 15": 6,
    "Not a community setting": 11,
    "Participants not service users": 9,
    "Not accessing support for mental health": 12,
    "Not peer reviewed": 7,
}


def seed(**changes):
    """Counts like the seed review (Carr et al.): 4,892 identified in six databases, 1,363
    duplicates, 3,529 screened, 84 assessed, 62 excluded for seven reasons, 22 included."""
    counts = {
        "databases": dict(DATABASES),
        "other_sources": {},
        "duplicates_removed": 1363,
        "screened": 3529,
        "screening_excluded": 3433,
        "sought": 96,
        "not_retrieved": 12,
        "assessed": 84,
        "excluded_reasons": dict(REASONS),
        "studies_included": 22,
        "reports_included": 22,
    }
    counts.update(changes)
    return PrismaCounts(**counts)


def with_other(**changes):
    other = {
        "other_sources": {"Expert and Advisory Group recommendations": 25, "Citation searching": 9},
        "other_sought": 34,
        "other_not_retrieved": 1,
        "other_assessed": 33,
        "other_excluded_reasons": {"Published in or before 2007": 10, "Not peer reviewed": 23},
    }
    return seed(**{**other, **changes})


def parse(svg):
    return ET.fromstring(svg)


def squash(text):
    return " ".join(text.split())


def texts(root):
    """The whole statement of each <text> element (wrapped lines joined)."""
    return [squash("".join(el.itertext())) for el in root.iter(f"{NS}text")]


def rects(root):
    """(id, x, y, width, height) of every box and phase band (not the background)."""
    out = []
    for el in root.iter(f"{NS}rect"):
        if el.get("id"):
            box = tuple(float(el.get(a)) for a in ("x", "y", "width", "height"))
            out.append((el.get("id"), *box))
    return out


def lines(root):
    """(x, baseline, text, size, anchor) of every rendered line of unrotated text."""
    out = []
    for el in root.iter(f"{NS}text"):
        if el.get("transform"):
            continue
        size = float(el.get("font-size"))
        anchor = el.get("text-anchor", "start")
        bold = el.get("font-weight") == "bold"
        spans = list(el.iter(f"{NS}tspan")) or [el]
        for span in spans:
            text = span.text if span is not el else el.text
            out.append((float(span.get("x")), float(span.get("y")), text, size, anchor, bold))
    return out


def test_seed_example_is_well_formed_accessible_svg():
    svg = render_svg(seed())
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" version="1.1"')
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "prisma-title prisma-desc"
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert (title.get("id"), title.text) == ("prisma-title", "PRISMA 2020 flow diagram")
    assert desc.get("id") == "prisma-desc"
    assert list(root)[:2] == [title, desc]  # first children, as assistive technology expects
    for number in ("4,892", "1,363", "3,529", "84", "62", "22"):
        assert number in desc.text
    assert desc.text.count(".") == 1  # one sentence
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"0 0 \d+(\.\d)? \d+(\.\d)?", root.get("viewBox"))
    assert root.get("font-family") == "Arial, Helvetica, sans-serif"


def test_no_scripts_styles_event_handlers_or_references():
    svg = render_svg(with_other(notes=["A note"]), show_title=True)
    root = parse(svg)
    tags = {el.tag.removeprefix(NS) for el in root.iter()}
    assert tags <= {"svg", "title", "desc", "rect", "text", "tspan", "polyline", "polygon"}
    for el in root.iter():
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert "href" not in name and name != "style"
            assert "url(" not in value and "javascript" not in value.lower()
    assert "<style" not in svg and "<script" not in svg
    # Dark text: every text inherits the root's black fill; boxes are light with black strokes.
    assert root.get("fill") == "#000000"
    assert not any(el.get("fill") for el in root.iter(f"{NS}text"))
    for el in root.iter(f"{NS}rect"):
        assert el.get("fill") in {"#ffffff", "#ffd966", "#d9d9d9", "#bdd7ee"}
        assert el.get("stroke") in {None, "#000000"}


def test_every_label_and_number_of_the_seed_example_is_text():
    found = texts(parse(render_svg(seed())))
    expected = [
        "Identification of studies via databases and registers",
        "Identification",
        "Screening",
        "Included",
        "Records identified from:",
        "Databases (n = 4,892)",
        *(f"{name} (n = {n:,})" for name, n in DATABASES.items()),
        "Records removed before screening:",
        "Duplicate records removed (n = 1,363)",
        "Records marked as ineligible by automation tools (n = 0)",
        "Records removed for other reasons (n = 0)",
        "Records screened (n = 3,529)",
        "Records excluded (n = 3,433)",
        "Reports sought for retrieval (n = 96)",
        "Reports not retrieved (n = 12)",
        "Reports assessed for eligibility (n = 84)",
        "Reports excluded:",
        *(f"{reason} (n = {n})" for reason, n in REASONS.items()),
        "Studies included in review (n = 22)",
        "Reports of included studies (n = 22)",
    ]
    for text in expected:
        assert text in found
    assert "PsycINFO (n = 1,234)" in found  # thousands separators
    assert sum(DATABASES.values()) - 1363 == 3529
    assert 84 - sum(REASONS.values()) == 22


def test_right_column_only_with_other_methods():
    without = render_svg(seed())
    assert "other methods" not in without
    assert 'id="prisma-other-' not in without

    with_sources = render_svg(with_other())
    found = texts(parse(with_sources))
    assert "Identification of studies via other methods" in found
    assert "Expert and Advisory Group recommendations (n = 25)" in found
    assert "Citation searching (n = 9)" in found
    assert found.count("Records identified from:") == 2
    assert "Reports sought for retrieval (n = 34)" in found
    assert "Reports not retrieved (n = 1)" in found
    assert "Reports assessed for eligibility (n = 33)" in found
    assert "Not peer reviewed (n = 23)" in found
    assert 'id="prisma-other-reports-excluded"' in with_sources
    width = lambda svg: float(parse(svg).get("viewBox").split()[2])  # noqa: E731
    assert width(with_sources) > 1.8 * width(without)

    # Reports sought via other methods without named sources still get the column.
    sought_only = texts(parse(render_svg(seed(other_sought=3, other_assessed=3))))
    assert "Identification of studies via other methods" in sought_only
    assert "Reports sought for retrieval (n = 3)" in sought_only


def test_arrows_connect_the_boxes():
    def heads(svg):
        return len(parse(svg).findall(f"{NS}polygon"))

    assert heads(render_svg(seed())) == 8  # 4 down the left column, 4 to side boxes
    assert heads(render_svg(with_other())) == 8 + 5  # + 2 down, 2 across, 1 to included


HOSTILE = {
    "<script>alert(1)</script>": 5,
    "A & B \"quoted\" 'single' <b>bold</b>": 7,
    "]]> <!-- comment --> <?pi?> &amp; &#x41;": 3,
    "control\x00\x1b\x7fchars\ttab\nnewline": 2,
}


def test_hostile_names_are_escaped_and_still_parse():
    counts = seed(
        databases=dict(HOSTILE),
        other_sources={"<img src=x onerror=alert(1)>": 1},
        other_sought=1,
        excluded_reasons={'"><script>x</script>': 4, "Tom & Jerry's": 1},
        notes=["<svg onload=alert(1)> & done"],
    )
    svg = render_svg(counts, title='<title>"x" & y</title>')
    root = parse(svg)
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "<!--" not in svg and "<?pi" not in svg
    assert not any(name.startswith("on") for el in root.iter() for name in el.attrib)
    found = texts(root)
    assert "<script>alert(1)</script> (n = 5)" in found
    assert "A & B \"quoted\" 'single' <b>bold</b> (n = 7)" in found
    assert "]]> <!-- comment --> <?pi?> &amp; &#x41; (n = 3)" in found
    assert "controlchars tab newline (n = 2)" in found  # XML-invalid characters dropped
    assert "<img src=x onerror=alert(1)> (n = 1)" in found
    assert '"><script>x</script> (n = 4)' in found
    assert "Tom & Jerry's (n = 1)" in found
    assert "<svg onload=alert(1)> & done" in found
    assert root.find(f"{NS}title").text == '<title>"x" & y</title>'
    labels = [label for _phase, label, _n in render_table_rows(counts)]
    assert "Records identified from: <script>alert(1)</script>" in labels
    assert "Records identified from: controlchars tab newline" in labels


@pytest.mark.parametrize("prefix", ['x" onload="alert(1)', "1abc", "", "a b", "a>b"])
def test_id_prefix_must_be_an_xml_name(prefix):
    with pytest.raises(ValueError, match="id_prefix"):
        render_svg(seed(), id_prefix=prefix)


def test_ids_are_unique_and_prefixed_per_call():
    first = parse(render_svg(with_other(), id_prefix="review-1"))
    second = parse(render_svg(with_other(), id_prefix="review-2"))
    ids = [[el.get("id") for el in root.iter() if el.get("id")] for root in (first, second)]
    for root, these, prefix in zip((first, second), ids, ("review-1", "review-2"), strict=True):
        assert len(these) == len(set(these)) > 10
        assert all(i.startswith(prefix + "-") for i in these)
        assert root.get("aria-labelledby") == f"{prefix}-title {prefix}-desc"
        labelled = root.get("aria-labelledby").split()
        assert set(labelled) <= set(these)
    assert not set(ids[0]) & set(ids[1])


def overlapping(a, b, gap=0.0):
    _, ax, ay, aw, ah = a
    _, bx, by, bw, bh = b
    return ax < bx + bw + gap and bx < ax + aw + gap and ay < by + bh + gap and by < ay + ah + gap


LONG = {
    "Participants were not adults who use community mental health and social care support "
    "services in the United Kingdom or comparable high-income countries": 12345,
    "Supercalifragilisticexpialidociousandthensomemorecharacterswithoutanyspaces": 1,
    "Not in English": 3,
}


@pytest.mark.parametrize(
    "counts",
    [
        seed(),
        with_other(),
        with_other(
            databases={f"Database number {i} with a rather long name": i * 1000 for i in range(12)},
            excluded_reasons=LONG,
            other_excluded_reasons=LONG,
            other_sources={"Websites of organisations " * 6: 1_234_567},
            notes=["Screening stopped early " * 20, "Second note"],
        ),
    ],
    ids=["seed", "other-methods", "long-text"],
)
def test_no_two_boxes_overlap_and_text_stays_inside(counts):
    root = parse(render_svg(counts))
    boxes = rects(root)
    assert len(boxes) >= 13
    for a, b in itertools.combinations(boxes, 2):
        assert not overlapping(a, b, gap=4), (a, b)

    _, _, _, vb_width, vb_height = map(float, ["0", *root.get("viewBox").split()])
    for _id, x, y, w, h in boxes:
        assert x >= 0 and y >= 0 and x + w <= vb_width and y + h <= vb_height

    diagram_bottom = max(y + h for _id, _x, y, _w, h in boxes)
    for x, baseline, text, size, anchor, bold in lines(root):
        width = _text_width(text, size, bold)
        left = x - width / 2 if anchor == "middle" else x
        line = ("line", left, baseline - size * 0.8, width, size)
        inside = [b for b in boxes if b[0].count("phase") == 0 and overlapping(line, b)]
        if inside:  # a box's line: wholly inside that one box, with padding
            assert len(inside) == 1, (text, inside)
            _id, bx, by, bw, bh = inside[0]
            assert bx + 4 <= left and left + width <= bx + bw - 4, (text, inside[0])
            assert by + 2 <= baseline - size * 0.8 and baseline + 4 <= by + bh, text
        else:  # a note under the diagram
            assert baseline - size > diagram_bottom, text
            assert left + width <= vb_width - 8, text


def test_long_text_wraps_and_the_box_grows():
    short = rects(parse(render_svg(seed())))
    long_counts = seed(excluded_reasons={**REASONS, **LONG})
    root = parse(render_svg(long_counts))
    long = rects(root)
    height = {i: h for i, _x, _y, _w, h in short}
    grown = {i: h for i, _x, _y, _w, h in long}
    assert grown["prisma-reports-excluded"] > height["prisma-reports-excluded"] + 3 * 17
    assert grown["prisma-assessed"] == height["prisma-assessed"]
    [element] = [
        el for el in root.iter(f"{NS}text") if "Participants were not" in "".join(el.itertext())
    ]
    spans = element.findall(f"{NS}tspan")
    assert len(spans) >= 4  # wrapped onto several lines, one <tspan> each
    assert len({span.get("y") for span in spans}) == len(spans)
    found = texts(root)
    assert f"{next(iter(LONG))} (n = 12,345)" in found  # the statement survives wrapping
    # The unbreakable word is split without inventing spaces inside it.
    assert f"{list(LONG)[1]} (n = 1)" in found


def test_table_rows_have_the_diagrams_numbers_in_the_diagrams_order():
    for counts in (seed(), with_other(automation_removed=17, other_removed=5)):
        rows = render_table_rows(counts)
        found = texts(parse(render_svg(counts)))
        numbers = [
            int(n.replace(",", "")) for t in found for n in re.findall(r"\(n = ([\d,]+)\)", t)
        ]
        assert [n for _phase, _label, n in rows] == numbers
        phases = [phase for phase, _label, _n in rows]
        assert phases == sorted(phases, key=["Identification", "Screening", "Included"].index)


def test_table_rows_wording():
    rows = render_table_rows(with_other())
    assert rows[:3] == [
        ("Identification", "Records identified from: Databases", 4892),
        ("Identification", "Records identified from: PsycINFO", 1234),
        ("Identification", "Records identified from: ASSIA", 1012),
    ]
    assert ("Identification", "Duplicate records removed", 1363) in rows
    assert ("Identification", "Records marked as ineligible by automation tools", 0) in rows
    assert ("Identification", "Records removed for other reasons", 0) in rows
    assert ("Identification", "Records identified from: Citation searching", 9) in rows
    assert ("Screening", "Records screened", 3529) in rows
    assert ("Screening", "Records excluded", 3433) in rows
    assert ("Screening", "Reports sought for retrieval", 96) in rows
    assert ("Screening", "Reports not retrieved", 12) in rows
    assert ("Screening", "Reports assessed for eligibility", 84) in rows
    excluded = [(label, n) for _p, label, n in rows if label.startswith("Reports excluded: ")]
    assert excluded == [(f"Reports excluded: {r}", n) for r, n in REASONS.items()]
    assert ("Screening", "Reports sought for retrieval (other methods)", 34) in rows
    assert ("Screening", "Reports excluded (other methods): Not peer reviewed", 23) in rows
    assert rows[-2:] == [
        ("Included", "Studies included in review", 22),
        ("Included", "Reports of included studies", 22),
    ]
    assert not any("other methods" in label for _p, label, _n in render_table_rows(seed()))


def test_no_exclusion_reasons_shows_a_zero_count():
    counts = seed(assessed=0, excluded_reasons={}, studies_included=0, reports_included=0)
    found = texts(parse(render_svg(counts)))
    assert "Reports excluded (n = 0)" in found
    assert "Reports excluded:" not in found
    assert ("Screening", "Reports excluded", 0) in render_table_rows(counts)


def test_counts_totals():
    counts = with_other()
    assert counts.databases_total == 4892
    assert counts.other_total == 34
    assert counts.excluded_total == 62
    assert counts.other_excluded_total == 33
    assert counts.has_other_methods and not seed().has_other_methods
    empty = PrismaCounts(databases={}, other_sources={}, duplicates_removed=0)
    assert (empty.databases_total, empty.excluded_total, empty.notes) == (0, 0, [])
    root = parse(render_svg(empty))
    assert "Databases (n = 0)" in texts(root)
    assert "0 records identified from 0 databases and registers" in describe(empty)


def test_notes_are_shown_under_the_diagram():
    note = "Screening stopped early on 2024-01-02 after 500 consecutive exclusions."
    root = parse(render_svg(seed(notes=[note, "Counts are live."])))
    found = texts(root)
    assert note in found and "Counts are live." in found


def test_fixed_size_and_visible_title_for_export():
    root = parse(render_svg(seed(), responsive=False, show_title=True, title="Carr et al."))
    _x, _y, width, height = root.get("viewBox").split()
    assert (root.get("width"), root.get("height")) == (width, height)
    assert "Carr et al." in texts(root)
    assert root.find(f"{NS}title").text == "Carr et al."


def test_output_is_deterministic():
    assert render_svg(with_other()) == render_svg(with_other())
    assert render_table_rows(with_other()) == render_table_rows(with_other())

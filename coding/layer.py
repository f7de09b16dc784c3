"""The document's highlight layer: its text as HTML, coded passages marked, built in one pass.

The text is cut at every excerpt boundary; each piece is escaped once and, when coded,
wrapped in a <mark> naming the excerpts that cover it. Each excerpt starts with a numbered
marker link (its meaning is in words: the coder and the codes), so a highlight never
relies on colour alone. Markers carry `data-nontext`: the page script skips them when it
turns a selection into offsets, so offsets count the document's text only.
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe


@dataclass
class Span:
    id: int
    number: int  # 1, 2, ... in document order: the marker's label
    start: int
    end: int
    coder: str
    codes: list  # [(code id, name)]
    mine: bool

    @property
    def label(self):
        names = ", ".join(name for _, name in self.codes) or "no code"
        return f"Excerpt {self.number} by {self.coder}: {names}"


def spans_from(excerpts, code_names, user):
    """Spans for excerpt rows (pk, start, end, coder_id, coder_name, code_ids) in document
    order."""
    ordered = sorted(excerpts, key=lambda e: (e.start, -e.end, e.pk))
    return [
        Span(
            id=e.pk,
            number=n,
            start=e.start,
            end=e.end,
            coder=e.coder_name,
            codes=[(pk, code_names.get(pk, "?")) for pk in e.code_ids],
            mine=e.coder_id == user.pk,
        )
        for n, e in enumerate(ordered, 1)
    ]


def render(text, spans):
    """The text as safe HTML with `spans` marked."""
    starts = {}
    points = {0, len(text)}
    for span in spans:
        starts.setdefault(span.start, []).append(span)
        points.add(span.start)
        points.add(span.end)
    points = sorted(p for p in points if 0 <= p <= len(text))
    events = {}
    for span in spans:
        events.setdefault(span.start, []).append((1, span))
        events.setdefault(span.end, []).append((-1, span))
    active = {}
    out = []
    for a, b in zip(points, points[1:], strict=False):
        for change, span in events.get(a, ()):
            if change < 0:
                active.pop(span.id, None)
        for change, span in events.get(a, ()):
            if change > 0:
                active[span.id] = span
        for span in starts.get(a, ()):
            out.append(
                f'<a class="ex-marker{" mine" if span.mine else ""}" '
                f'href="#excerpt-item-{span.id}" data-nontext data-excerpt="{span.id}" '
                f'id="excerpt-{span.id}" aria-label="{escape(span.label)}">{span.number}</a>'
            )
        piece = escape(text[a:b])
        if active:
            ids = " ".join(str(i) for i in active)
            innermost = max(active.values(), key=lambda s: (s.start, -s.end))
            colour = f" code-{innermost.codes[0][0]}" if innermost.codes else ""
            depth = " hl-overlap" if len(active) > 1 else ""
            out.append(f'<mark class="hl{colour}{depth}" data-excerpts="{ids}">{piece}</mark>')
        else:
            out.append(piece)
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def render_list(spans, *, edit_url, span_url, delete_url, csrf_token):
    """The excerpt list beside the text, as safe HTML. Built here rather than in a template
    loop: a document with 2,000 excerpts took over a second through the template engine.
    The URLs contain the placeholder 0, replaced by each excerpt's id."""
    token = escape(csrf_token)
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    out = []
    for span in spans:
        n = span.number
        hidden = f'<span class="visually-hidden"> excerpt {n}</span>'
        codes = "".join(
            f'<li><span class="swatch code-{pk}" aria-hidden="true"></span>{escape(name)}</li>'
            for pk, name in span.codes
        )
        edit = escape(edit_url.replace("/0/", f"/{span.id}/"))
        if span.mine:
            actions = (
                f'<div class="excerpt-actions"><a href="{edit}">Edit{hidden}</a>'
                f'<form method="post" action="{escape(span_url.replace("/0/", f"/{span.id}/"))}"'
                f' class="inline-form use-selection">{csrf}<input type="hidden" name="start">'
                '<input type="hidden" name="end"><input type="hidden" name="unit" value="utf16">'
                f'<button type="submit">Use the selection as its passage{hidden}</button></form>'
                f'<form method="post" action="{escape(delete_url.replace("/0/", f"/{span.id}/"))}"'
                f' class="inline-form confirm-delete">{csrf}'
                f'<button type="submit" class="danger">Delete{hidden}</button></form></div>'
            )
        else:
            actions = f'<p><a href="{edit}">Details<span class="visually-hidden"> of excerpt {n}'
            actions += "</span></a></p>"
        out.append(
            f'<li id="excerpt-item-{span.id}" tabindex="-1"><p><a href="#excerpt-{span.id}">'
            f"Excerpt {n}</a> by {escape(span.coder)}{' (you)' if span.mine else ''}, "
            f"characters {span.start}\u2013{span.end}</p>"
            f'<ul class="code-tags">{codes}</ul>{actions}</li>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped

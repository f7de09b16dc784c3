from dataclasses import replace

from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from reviewapp.access import get_review_for, is_researcher

from ..prisma import prisma_counts
from ..prisma_diagram import render_svg, render_table_rows


def _context(review, id_prefix):
    counts = prisma_counts(review)
    return {
        "counts": counts,
        # Our own renderer escapes every user-supplied name it draws.
        # The notes are listed as HTML under the figure, where they read and zoom better.
        "svg": mark_safe(render_svg(replace(counts, notes=[]), id_prefix=id_prefix)),  # noqa: S308
        "rows": render_table_rows(counts),
    }


@require_GET
def prisma(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    context = {"review": review, "membership": membership, **_context(review, "prisma-page")}
    return render(request, "screening/prisma.html", context)


def review_page_panel(request, review, membership):
    """The live diagram on the review's own page, for the people who screen."""
    if not is_researcher(membership):
        return ""
    context = {"review": review, **_context(review, "prisma-panel")}
    return render_to_string("screening/prisma_panel.html", context, request=request)


urlpatterns = [path("prisma/", prisma, name="prisma")]

"""Where a review stands: each app registers a function giving its lines for the review
page, so the core does not import the apps that build on it."""

_providers = []


def register(provider):
    """provider(review, membership) -> list of (label, summary) pairs the member may see."""
    _providers.append(provider)
    return provider


def lines_for(review, membership):
    lines = []
    for provider in _providers:
        lines.extend(provider(review, membership))
    return lines


_panels = []


def register_panel(panel):
    """panel(request, review, membership) -> rendered HTML for the review page, or ""."""
    _panels.append(panel)
    return panel


def panels_for(request, review, membership):
    return [html for html in (panel(request, review, membership) for panel in _panels) if html]

"""The screening workspace: a reviewer's records at title/abstract, one at a time.

Every action is a plain form or link that answers with a redirect (303) or a full page, so the
workspace works without JavaScript. screen.js sends the same requests with fetch and the
header `X-Requested-With: fetch`; the views then answer with the record fragment alone
(`workspace.html#record`, which also carries the progress bars) and the script swaps it in.
For speed, while a reviewer reads a record the queue served, the script fetches the record
that will follow it (`?ahead=<id>`, which moves nothing), shows it the moment they decide and
sends the decision in the background; the decide answer then corrects the page if needed.

Blind screening: while a record is not settled, a reviewer sees only their own decision on
it; the lead can switch blinding off (ScreeningConfig.blind). `_Workspace.panel` is the one
place that rule is applied for this page.

Paths leave room for full text (`screening/<stage>/...`): each view takes `stage` from the
URL's defaults; only title/abstract is served here (views/fulltext.py does full text).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reviewapp.access import get_review_for, is_lead, is_researcher

from ..access import can_adjudicate
from ..decisions import (
    DecisionError,
    StaleDecision,
    config_for,
    lock_stage_row,
    record_decision,
)
from ..decisions import withdraw_decision as withdraw
from ..highlight import (
    TermError,
    add_personal_term,
    compile_terms,
    highlight,
    remove_personal_term,
    terms_for,
)
from ..models import Decision, DecisionValue, ExclusionReason, HighlightTerm, RecordStage, Stage
from ..models.decisions import OPEN_STATUSES, StageStatus
from ..queue import next_record_stage, next_record_stages, record_stage_after

S = StageStatus
# Stages this module serves; full text has its own decision page.
STAGES = (Stage.TA,)
# A settled record's outcome is known: blinding ends for it.
SETTLED = (S.INCLUDED, S.EXCLUDED, S.RESOLVED_INCLUDE, S.RESOLVED_EXCLUDE, S.NOT_RETRIEVED)
# Nobody can change a decision on these any more (screening.decisions refuses).
FINAL = (S.RESOLVED_INCLUDE, S.RESOLVED_EXCLUDE, S.MERGED)
PAGE_SIZE = 50
# `_Workspace.render`'s "the caller has not looked for the record after this one".
UNKNOWN = object()
TEMPLATE = "screening/screen/workspace.html"
DONE_WORDS = {
    DecisionValue.INCLUDE: "Included",
    DecisionValue.EXCLUDE: "Excluded",
    DecisionValue.MAYBE: "Marked maybe",
}


def is_fetch(request):
    return request.headers.get("X-Requested-With") == "fetch"


def see_other(url):
    """303: after a POST the browser GETs the next page (and the back button stays sane)."""
    return HttpResponseRedirect(url, status=303)


def optional_url(name, *args):
    """The URL of a page another part of the app may not have yet, or None."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _progress_key(review, user):
    return f"screening-progress:{review.pk}:{user.pk}"


def stage_progress(review, user, stages):
    """{stage: counts}: `mine` (my decisions), `mine_total` (those plus the open records
    still waiting for me), `settled` and `total` (records at the stage, merged ones left
    out).

    Counting means scanning the whole stage, which at 100,000 records costs more than the
    rest of a decision; so the counts are kept in the cache for a few seconds
    (SCREENING_PROGRESS_CACHE_SECONDS) and my own decisions adjust them as I make them
    (adjust_progress), which keeps my bar exact and the team's at most that old."""
    ttl = settings.SCREENING_PROGRESS_CACHE_SECONDS
    cached = cache.get(_progress_key(review, user)) if ttl else None
    if cached is not None and all(stage in cached for stage in stages):
        return cached
    progress = _count_progress(review, user, stages)
    if ttl:
        cache.set(_progress_key(review, user), progress, ttl)
    return progress


def adjust_progress(review, user, stage, delta):
    """After I add (+1) or take back (-1) a decision at `stage`."""
    key = _progress_key(review, user)
    cached = cache.get(key)
    if not cached or stage not in cached:
        return
    counts = cached[stage]
    counts["mine"] = max(0, counts["mine"] + delta)
    _percentages(counts)
    cache.set(key, cached, settings.SCREENING_PROGRESS_CACHE_SECONDS)


def _percentages(counts):
    counts["mine_percent"] = _percent(counts["mine"], counts["mine_total"])
    counts["team_percent"] = _percent(counts["settled"], counts["total"])


def _count_progress(review, user, stages):
    # One pass over the stage's rows, joined to my decisions: "does this row have my
    # decision?" asked as a subquery per row cost 400 ms at 100,000 records (PostgreSQL
    # even compiled it), the join about 50 ms. Raw SQL because RecordStage has no relation
    # to Decision that the ORM could join on without the record table in between.
    placeholders = ", ".join(["%s"] * len(stages))
    sql = f"""
        SELECT s.stage, s.status, COUNT(*), COUNT(d.id)
        FROM {RecordStage._meta.db_table} s
        LEFT JOIN {Decision._meta.db_table} d
          ON d.record_id = s.record_id AND d.stage = s.stage AND d.reviewer_id = %s
        WHERE s.review_id = %s AND s.stage IN ({placeholders})
        GROUP BY s.stage, s.status
    """  # noqa: S608 - table names are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, review.pk, *map(str, stages)])
        rows = cursor.fetchall()
    progress = {stage: {"mine": 0, "mine_total": 0, "settled": 0, "total": 0} for stage in stages}
    for stage, status, count, mine in rows:
        if status == S.MERGED:
            continue
        counts = progress[stage]
        counts["total"] += count
        counts["mine"] += mine
        counts["mine_total"] += count if status in OPEN_STATUSES else mine
        if status in SETTLED:
            counts["settled"] += count
    for counts in progress.values():
        _percentages(counts)
    return progress


def _percent(part, whole):
    return round(100 * part / whole) if whole else 0


class DecisionForm(forms.Form):
    value = forms.ChoiceField(choices=DecisionValue.choices)
    reason = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    note = forms.CharField(required=False, max_length=4000)
    version = forms.IntegerField(required=False, min_value=0)

    def __init__(self, data, *, reasons):
        super().__init__(data)
        self.reasons = {reason.pk: reason for reason in reasons}
        choices = [(pk, reason.text) for pk, reason in self.reasons.items()]
        self.fields["reason"].choices = [("", ""), *choices]

    def chosen_reason(self):
        return self.reasons.get(self.cleaned_data.get("reason"))

    def first_error(self):
        field, errors = next(iter(self.errors.items()))
        label = {"value": "Decision", "reason": "Exclusion reason", "note": "Note",
                 "version": "Version"}.get(field, "")  # fmt: skip
        return f"{label}: {errors[0]}" if label else errors[0]


class PersonalTermForm(forms.Form):
    term = forms.CharField(label="Word, phrase or stem*", max_length=100)
    kind = forms.ChoiceField(label="Kind", choices=HighlightTerm.Kind.choices)


class _Workspace:
    """What one request needs to show records: settings, terms and reasons, each read once."""

    def __init__(self, request, review, membership, stage):
        self.request, self.review, self.membership, self.stage = request, review, membership, stage
        self.user = request.user
        self.config = config_for(review)
        self._terms = self._reasons = None
        # Shown through ?record=<id> rather than served by the queue.
        self.revisiting = False
        # Records the queue served in this request: none has a decision of mine.
        self._served = set()
        # {record id: its decisions at the stage}, read once per record.
        self._decisions = {}
        # The record of my latest decision, when this request just made it.
        self.latest_decided = None

    @property
    def terms(self):
        if self._terms is None:
            self._terms = terms_for(self.review, self.user)
        return self._terms

    @property
    def reasons(self):
        if self._reasons is None:
            self._reasons = list(ExclusionReason.objects.filter(review=self.review))
        return self._reasons

    def url(self, record_id=None):
        url = reverse("screen", kwargs={"slug": self.review.slug, "stage": self.stage})
        return f"{url}?record={record_id}" if record_id else url

    def row(self, record_id):
        """The stage row (with its record) of one of the review's records, or 404."""
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            raise Http404("No such record.") from None
        row = (
            RecordStage.objects.select_related("record")
            .defer("record__raw")
            .filter(review=self.review, stage=self.stage, record_id=record_id)
            .first()
        )
        if row is None:
            raise Http404("This record is not at this stage.")
        return row

    def locked_row(self, record_id):
        """`row`, locked for a decision (inside the caller's transaction), or 404."""
        row = lock_stage_row(self.review, record_id, self.stage)
        if row is None:
            raise Http404("This record is not at this stage.")
        return row

    def _served_by_queue(self, *rows):
        self._served.update(row.record_id for row in rows if row is not None)

    def next_row(self, after=None):
        row = next_record_stage(self.review, self.user, self.stage, after=after)
        self._served_by_queue(row)
        return row

    def next_rows(self):
        """The next record and the one after it (what `row_after` would give for it)."""
        row, following = next_record_stages(self.review, self.user, self.stage)
        self._served_by_queue(row, following)
        return row, following

    def row_after(self, current):
        """The record the queue will serve once I decide `current` (which I was served from
        the queue), without moving the queue cursor: what screen.js prefetches."""
        row = record_stage_after(self.review, self.user, self.stage, current)
        self._served_by_queue(row)
        return row

    def _shows_no_decision(self, row):
        # Served by the queue, so I have not decided it; open and blind, so nobody else's
        # decision shows either.
        return self.config.blind and row.record_id in self._served and row.status in OPEN_STATUSES

    def read_decisions(self, rows):
        """Read the decisions on `rows` (None allowed) in one query, skipping those read
        already and those whose panel shows none."""
        wanted = {
            row.record_id
            for row in rows
            if row is not None
            and row.record_id not in self._decisions
            and not self._shows_no_decision(row)
        }
        if not wanted:
            return
        for record_id in wanted:
            self._decisions[record_id] = []
        decisions = (
            Decision.objects.filter(record_id__in=wanted, stage=self.stage)
            .select_related("reviewer", "reason")
            .order_by("created_at", "id")
        )
        for decision in decisions:
            self._decisions[decision.record_id].append(decision)

    def decisions_on(self, row):
        """Everyone's decisions on `row`, oldest first (none when the panel shows none)."""
        self.read_decisions([row])
        return self._decisions.get(row.record_id, [])

    def panel(
        self, row, *, error=None, notice=None, said=None, note=None, assume=None, progress=None
    ):
        """The context of the record fragment for `row` (None: nothing left for me).

        `notice` is shown above the record; `said` (default: the notice) starts what the
        live region announces. `assume`: a record shown as undecided that I am taken to have
        decided (a prefetched fragment: the decide request will bring the true figures).
        `progress`: the figures, when the caller has them already."""
        said = notice if said is None else said
        config, user = self.config, self.user
        if progress is None:
            progress = stage_progress(self.review, user, [self.stage])[self.stage]
        else:
            progress = dict(progress)
        if assume is not None:
            progress["mine"] += 1
            progress["mine_percent"] = _percent(progress["mine"], progress["mine_total"])
        context = {"row": row, "progress": progress, "error": error, "notice": notice,
                   "reasons": self.reasons, "stage": self.stage}  # fmt: skip
        if row is None:
            context.update(
                announce=" ".join(filter(None, [said, "No more records need you here."])),
                panel_url=self.url(),
                previous_url=self.url(assume.record_id)
                if assume
                else self._previous_url(None, None),
            )
            return context
        record = row.record
        decisions = self.decisions_on(row)
        mine = next((d for d in decisions if d.reviewer_id == user.pk), None)
        settled = row.status in SETTLED
        # Blind: nobody else's decision (nor how many there are) until the record is settled.
        others_visible = settled or not config.blind
        others = [d for d in decisions if d.reviewer_id != user.pk] if others_visible else []
        read_only = ""
        if row.status == S.MERGED:
            read_only = "This record was merged into another; screen that one instead."
        elif row.status in FINAL:
            read_only = (
                f"This record's conflict was resolved ({row.get_status_display().lower()}); "
                "decisions on it can no longer be changed."
            )
        elif mine is None and row.status not in OPEN_STATUSES:
            read_only = "This record already has all the decisions it needs."
        queued = mine is None and row.status in OPEN_STATUSES and not self.revisiting
        panel_url = self.url(None if queued else record.pk)
        matcher = compile_terms(self.terms)
        title = record.title or "(no title)"
        if mine is None and row.status in OPEN_STATUSES:
            position = f"Record {progress['mine'] + 1:,} of {progress['mine_total']:,}"
        elif mine is not None:
            position = "Revisiting a record you decided"
        else:
            position = "Viewing a record"
        context.update(
            record=record,
            title_html=highlight(title, matcher),
            abstract_html=highlight(record.abstract, matcher),
            authors="; ".join(record.authors),
            keywords_html=[highlight(k, matcher) for k in record.keywords],
            mine=mine,
            note=mine.note if note is None and mine else (note or ""),
            others=others,
            others_visible=others_visible,
            settled=settled,
            # Blind: "conflict" or "awaiting another reviewer" would tell what others chose.
            outcome=(
                row.get_status_display()
                if others_visible or row.status in FINAL
                else "Not settled yet"
            ),
            is_open=row.status in OPEN_STATUSES,
            read_only=read_only,
            position=position,
            announce=" ".join(filter(None, [said, f"{position}: {title}"])),
            panel_url=panel_url,
            revisit_id="" if queued else record.pk,
            previous_url=self.url(assume.record_id) if assume else self._previous_url(row, mine),
            # A record served by the queue: the one after it can be fetched ahead of time.
            prefetch_url=(
                f"{panel_url}?ahead={record.pk}" if queued and not read_only and not error else ""
            ),
        )
        return context

    def _previous_url(self, row, mine):
        """My decision before the one shown (or my latest, on a record I have not decided:
        `latest_decided`, when this request made it)."""
        latest = self.latest_decided
        if mine is None and latest is not None and (row is None or row.record_id != latest):
            return self.url(latest)
        earlier = Decision.objects.filter(review=self.review, stage=self.stage, reviewer=self.user)
        if mine is not None:
            earlier = earlier.filter(
                Q(created_at__lt=mine.created_at) | Q(created_at=mine.created_at, id__lt=mine.pk)
            )
        elif row is not None:
            earlier = earlier.exclude(record_id=row.record_id)
        record_id = earlier.order_by("-created_at", "-id").values_list("record_id", flat=True)
        record_id = record_id.first()
        return self.url(record_id) if record_id else None

    def render(self, row, *, status=200, with_ahead=False, ahead=UNKNOWN, **kwargs):
        """The workspace page, or (fetch) the record fragment. `with_ahead`: add the
        fragment of the record after `row` too, in <template id="screen-ahead">, so that
        screen.js need not ask for it separately; `ahead` is that record's row, when the
        caller has it (None: there is none)."""
        if with_ahead and ahead is not UNKNOWN:
            self.read_decisions([row, ahead])
        context = self.context(row, **kwargs)
        if not is_fetch(self.request):
            context.update(self._page_context())
            response = render(self.request, TEMPLATE, context, status=status)
        elif with_ahead and context.get("prefetch_url"):
            if ahead is UNKNOWN:
                ahead = self.row_after(row)
            ahead = self.context(ahead, assume=row, progress=context["progress"])
            parts = {"current": render_to_string(f"{TEMPLATE}#record", context, self.request),
                     "ahead": render_to_string(f"{TEMPLATE}#record", ahead, self.request),
                     "after": row.record_id}  # fmt: skip
            response = render(self.request, "screening/screen/decided.html", parts, status=status)
        else:
            response = render(self.request, f"{TEMPLATE}#record", context, status=status)
        patch_vary_headers(response, ["X-Requested-With"])
        return response

    def context(self, row, **kwargs):
        return {"review": self.review, "membership": self.membership, **self.panel(row, **kwargs)}

    def _page_context(self):
        return {
            "config": self.config,
            "review_terms": [t for t in self.terms if t.user_id is None],
            "my_terms": [t for t in self.terms if t.user_id is not None],
            "home_url": self.url(),
            "settings_url": (
                optional_url("screening_settings", self.review.slug)
                if is_lead(self.membership)
                else None
            ),
        }


def _workspace(request, slug, stage):
    review, membership = get_review_for(request, slug, need=is_researcher, related=["screening"])
    return _Workspace(request, review, membership, stage)


@require_GET
def screening_home(request, slug):
    review, membership = get_review_for(request, slug, need=is_researcher)
    config = config_for(review)
    progress = stage_progress(review, request.user, [Stage.TA, Stage.FT])
    adjudicator = can_adjudicate(membership, config)
    stages = [
        {"name": Stage.TA.label, "counts": progress[Stage.TA],
         "screen_url": reverse("screen", args=[review.slug]),
         "screen_label": "Screen titles and abstracts",
         "mine_url": reverse("my_decisions", args=[review.slug])},
        {"name": Stage.FT.label, "counts": progress[Stage.FT],
         "screen_url": optional_url("fulltext_list", review.slug),
         "screen_label": "Screen full texts", "mine_url": None},
    ]  # fmt: skip
    return render(
        request, "screening/screen/home.html",
        {"review": review, "membership": membership, "config": config, "stages": stages,
         "adjudicator": adjudicator,
         "conflicts_url": optional_url("conflicts", review.slug) if adjudicator else None,
         "awaiting_url": optional_url("awaiting", review.slug) if adjudicator else None,
         "settings_url": (optional_url("screening_settings", review.slug)
                          if is_lead(membership) else None)},
    )  # fmt: skip


@require_GET
def screen(request, slug, stage):
    """The next record that still needs me, or `?record=<id>`: one I may decide or revisit."""
    ws = _workspace(request, slug, stage)
    ahead = request.GET.get("ahead")
    if ahead and is_fetch(request):
        # screen.js asks for the record after the one on screen before the reviewer decides.
        current = ws.row(ahead)
        return ws.render(ws.row_after(current), assume=current)
    record_id = request.GET.get("record")
    if record_id:
        ws.revisiting = True
        return ws.render(ws.row(record_id))
    return ws.render(ws.next_row())


@require_POST
def screen_decide(request, slug, stage, record_id):
    ws = _workspace(request, slug, stage)
    form = DecisionForm(request.POST, reasons=ws.reasons)
    if not form.is_valid():
        return ws.render(
            ws.row(record_id), error=form.first_error(), note=request.POST.get("note"), status=400
        )
    data = form.cleaned_data
    following = ahead = None
    try:
        # One commit for the decision and the queue cursor's move to the next record.
        with transaction.atomic():
            row = ws.locked_row(record_id)
            decision, _ = record_decision(
                record=row.record, stage=stage, reviewer=request.user, value=data["value"],
                reason=form.chosen_reason(), note=data["note"], expected_version=data["version"],
                config=ws.config, locked_row=row,
            )  # fmt: skip
            if is_fetch(request):
                following, ahead = ws.next_rows()
    except StaleDecision as exc:
        # Show what is stored now, so the reviewer sees the change before deciding again.
        return ws.render(ws.row(record_id), error=str(exc), status=409)
    except DecisionError as exc:
        return ws.render(ws.row(record_id), error=str(exc), note=data["note"], status=400)
    if decision.version == 1 and decision.created_at == decision.updated_at:
        adjust_progress(ws.review, request.user, stage, +1)
    if data["version"] == 0:
        # The page had no decision of mine and none was there (else StaleDecision): this one
        # is new, so it is my latest, and "previous decision" needs no query.
        ws.latest_decided = decision.record_id
    done = f"{DONE_WORDS[decision.value]}: {row.record.title or '(no title)'}."
    if not is_fetch(request):
        messages.success(request, done)
        return see_other(ws.url())
    return ws.render(
        following,
        notice=done,
        said=f"{DONE_WORDS[decision.value]}.",
        with_ahead=True,
        ahead=ahead,
    )


@require_POST
def screen_undo(request, slug, stage):
    """Take back my most recent decision that can still change, and show that record."""
    ws = _workspace(request, slug, stage)
    changeable = RecordStage.objects.filter(record_id=OuterRef("record_id"), stage=stage).exclude(
        status__in=FINAL
    )
    last = (
        Decision.objects.filter(review=ws.review, stage=stage, reviewer=request.user)
        .filter(Exists(changeable))
        .select_related("record")
        .order_by("-updated_at", "-id")
        .first()
    )
    if last is None:
        notice = "There is no decision of yours to undo."
        if not is_fetch(request):
            messages.info(request, notice)
            return see_other(ws.url())
        return ws.render(ws.next_row(), notice=notice)
    try:
        withdraw(record=last.record, stage=stage, reviewer=request.user)
    except DecisionError as exc:
        return ws.render(ws.row(last.record_id), error=str(exc), status=400)
    adjust_progress(ws.review, request.user, stage, -1)
    notice = f"Undone: your decision on “{last.record.title or '(no title)'}” was taken back."
    # The queue has moved past this record: show it as a revisit (deciding it again then
    # goes on from where the queue is).
    ws.revisiting = True
    if not is_fetch(request):
        messages.success(request, notice)
        return see_other(ws.url(last.record_id))
    return ws.render(ws.row(last.record_id), notice=notice, said="Decision undone.")


@require_http_methods(["GET", "POST"])
def screen_skip(request, slug, stage):
    """Move on without deciding: the next record after queue position `after`."""
    ws = _workspace(request, slug, stage)
    data = request.POST if request.method == "POST" else request.GET
    try:
        after = int(data["after"]) + 1
    except (KeyError, ValueError):
        after = None
    row = ws.next_row(after=after)
    notice = None
    if row is not None and str(row.record_id) == data.get("record"):
        notice = "This is the only record left that needs you."
    if not is_fetch(request):
        if notice:
            messages.info(request, notice)
        # The queue cursor now points at `row`, so the workspace shows it.
        return see_other(ws.url())
    return ws.render(row, notice=notice)


@require_GET
def my_decisions(request, slug, stage):
    """My decisions at the stage, newest first, each a link to revisit it."""
    review, membership = get_review_for(request, slug, need=is_researcher)
    config = config_for(review)
    status = RecordStage.objects.filter(record_id=OuterRef("record_id"), stage=stage)
    decisions = (
        Decision.objects.filter(review=review, stage=stage, reviewer=request.user)
        .select_related("record", "reason")
        .annotate(record_status=Subquery(status.values("status")[:1]))
        .order_by("-updated_at", "-id")
    )
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(StageStatus.choices)
    screen_url = reverse("screen", kwargs={"slug": review.slug, "stage": stage})
    for decision in page.object_list:
        decision.revisit_url = f"{screen_url}?record={decision.record_id}"
        shown = decision.record_status in SETTLED or decision.record_status == S.MERGED
        # Blind: "conflict" or "awaiting another reviewer" would tell me what others chose.
        decision.outcome = (
            labels.get(decision.record_status, "—")
            if shown or not config.blind
            else "Not settled yet"
        )
        decision.changeable = decision.record_status not in FINAL
    return render(
        request, "screening/screen/mine.html",
        {"review": review, "membership": membership, "page": page, "config": config,
         "screen_url": screen_url, "stage_label": Stage(stage).label},
    )  # fmt: skip


@require_POST
def personal_terms(request, slug):
    """Add or remove one of my own highlight terms, then back to the record I was on."""
    review, _ = get_review_for(request, slug, need=is_researcher)
    if request.POST.get("action") == "remove":
        try:
            removed = remove_personal_term(
                review=review, user=request.user, term_id=int(request.POST.get("term", ""))
            )
        except ValueError:
            removed = 0
        if removed:
            messages.success(request, "Your term was removed.")
        else:
            messages.error(request, "That term is not one of yours.")
    else:
        form = PersonalTermForm(request.POST)
        if form.is_valid():
            try:
                term = add_personal_term(review=review, user=request.user, **form.cleaned_data)
            except TermError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"“{term.term}” is now highlighted for you.")
        else:
            messages.error(request, "Type a word, a phrase, or a stem ending in *.")
    url = reverse("screen", args=[review.slug])
    record = request.POST.get("record", "")
    return see_other(f"{url}?record={int(record)}" if record.isdigit() else url)


def _stage_paths(stage):
    kwargs = {"stage": stage}
    return [
        path(f"screening/{stage}/", screen, kwargs, name="screen"),
        path(f"screening/{stage}/<int:record_id>/decide/", screen_decide, kwargs,
             name="screen_decide"),
        path(f"screening/{stage}/undo/", screen_undo, kwargs, name="screen_undo"),
        path(f"screening/{stage}/skip/", screen_skip, kwargs, name="screen_skip"),
        path(f"screening/{stage}/mine/", my_decisions, kwargs, name="my_decisions"),
    ]  # fmt: skip


urlpatterns = [
    path("screening/", screening_home, name="screening_home"),
    path("screening/terms/", personal_terms, name="personal_terms"),
    *(pattern for stage in STAGES for pattern in _stage_paths(stage)),
]

"""The Advisory Group's pages as members use them: what advisory members can and cannot
see, threaded comments with edits and withdrawals, "you said, we did" responses, the
feedback page and each theme's history."""

import pytest
from django.urls import reverse

from advisory.comments import CommentError, edit_comment, post_comment, respond
from advisory.comments import withdraw_comment as withdraw
from advisory.models import Comment, CommentEdit, Preference, SharedExcerpt, SharedTheme
from advisory.redaction import add_redaction
from coding.codebook import create_code
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.revisions import record_change
from reviewapp.models import Membership
from screening.models import Study

pytestmark = pytest.mark.django_db

QUOTE = "Maria said the social worker never listened to her."


@pytest.fixture
def world(review, lead, reviewer, advisory):
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Findings", text=f"Intro. {QUOTE} Secret end.",
                            source="paste", user=lead)  # fmt: skip
    version = document.versions.get()
    theme = create_code(review=review, user=lead, name="Poor relationships")
    hidden_theme = create_code(review=review, user=lead, name="Unshared theme")
    start = version.text.index(QUOTE)
    shared_excerpt_obj = create_excerpt(version=version, coder=reviewer, start=start,
                                        end=start + len(QUOTE), code_ids=[theme.pk])  # fmt: skip
    secret = create_excerpt(version=version, coder=reviewer, start=version.text.index("Secret"),
                            end=len(version.text), code_ids=[theme.pk])  # fmt: skip
    shared = SharedTheme.objects.create(review=review, theme=theme, shared=True,
                                        plain_title="Relationships with workers",
                                        plain_description="How people felt about staff.",
                                        content_note="mentions of neglect")  # fmt: skip
    unshared = SharedTheme.objects.create(review=review, theme=hidden_theme, shared=False)
    shown = SharedExcerpt.objects.create(
        shared_theme=shared,
        excerpt=shared_excerpt_obj,
        visible=True,
        content_note="describes distress",
    )
    add_redaction(shared_excerpt=shown, quote="Maria", replacement="Participant A")
    return {"theme": shared, "unshared": unshared, "excerpt": shown, "secret": secret,
            "document": document}  # fmt: skip


def url(name, *args):
    return reverse(name, args=args)


class TestWhatAdvisoryMembersSee:
    def test_shared_theme_with_redacted_quote(self, client_for, world, advisory, review):
        body = client_for(advisory).get(url("advisory_theme", review.slug,
                                            world["theme"].pk)).content.decode()  # fmt: skip
        assert "Relationships with workers" in body
        assert "Participant A said the social worker never listened" in body
        assert "Maria" not in body
        assert "Secret end" not in body  # an unshared excerpt of the same theme
        assert "Content note:" in body and "mentions of neglect" in body

    def test_a_quote_stays_hidden_until_the_lead_shows_it(
        self, client_for, world, advisory, lead, review
    ):
        hidden = SharedExcerpt.objects.create(shared_theme=world["theme"],
                                              excerpt=world["secret"])  # fmt: skip
        target = url("advisory_theme", review.slug, world["theme"].pk)
        assert "Secret end" not in client_for(advisory).get(target).content.decode()
        assert "Not shown to the group yet" in client_for(lead).get(target).content.decode()
        response = client_for(advisory).post(url("comment_create", review.slug, world["theme"].pk),
                                             {"body": "x", "excerpt": hidden.pk})  # fmt: skip
        assert response.status_code == 404
        client_for(lead).post(url("shared_excerpt_visibility", review.slug, hidden.pk),
                              {"visible": "1"})  # fmt: skip
        assert "Secret end" in client_for(advisory).get(target).content.decode()
        assert (
            client_for(advisory)
            .post(url("shared_excerpt_visibility", review.slug, hidden.pk), {"visible": "0"})
            .status_code
            == 403
        )

    def test_a_shared_quote_keeps_its_span(self, world, reviewer):
        from coding.excerpts import ExcerptError, update_excerpt

        excerpt = world["excerpt"].excerpt
        with pytest.raises(ExcerptError, match="shared with the Advisory Group"):
            update_excerpt(excerpt=excerpt, user=reviewer, start=0, end=5)
        update_excerpt(excerpt=excerpt, user=reviewer, memo="still fine")

    def test_unshared_theme_is_404_for_advisory_but_visible_to_researchers(
        self, client_for, world, advisory, lead, review
    ):
        target = url("advisory_theme", review.slug, world["unshared"].pk)
        assert client_for(advisory).get(target).status_code == 404
        assert client_for(lead).get(target).status_code == 200
        home = client_for(advisory).get(url("advisory_home", review.slug)).content.decode()
        assert "Relationships with workers" in home
        assert "Unshared theme" not in home

    def test_no_screening_records_documents_or_coding(self, client_for, world, advisory, review):
        client = client_for(advisory)
        for target in [
            url("records", review.slug),
            url("screening_home", review.slug),
            url("coding_home", review.slug),
            url("document", review.slug, world["document"].pk),
            url("codebook", review.slug),
            url("code_detail", review.slug, world["theme"].theme_id),
            url("advisory_manage", review.slug),
        ]:
            assert client.get(target).status_code in (403, 404), target

    def test_outsider_sees_nothing(self, client_for, world, outsider, review):
        client = client_for(outsider)
        for target in [url("advisory_home", review.slug),
                       url("advisory_theme", review.slug, world["theme"].pk),
                       url("advisory_feedback", review.slug)]:  # fmt: skip
            assert client.get(target).status_code == 404

    def test_no_email_addresses_anywhere(self, client_for, world, advisory, lead, review):
        post_comment(shared_theme=world["theme"], author=lead, body="Thanks all.")
        post_comment(shared_theme=world["theme"], author=advisory, body="Agreed.")
        Membership.objects.filter(user=lead).update()
        lead.name = ""
        lead.save()
        body = client_for(advisory).get(url("advisory_theme", review.slug,
                                            world["theme"].pk)).content.decode()  # fmt: skip
        # The header names the signed-in member's own address; nobody else's appears.
        assert lead.email not in body
        assert lead.email.split("@")[0] not in body
        assert "Lead researcher" in body

    def test_folded_content_for_members_who_ask(self, client_for, world, advisory, review):
        target = url("advisory_theme", review.slug, world["theme"].pk)
        assert (
            '<details class="content-note" open>'
            in client_for(advisory).get(target).content.decode()
        )
        membership = Membership.objects.get(user=advisory, review=review)
        Preference.objects.create(membership=membership, fold_content_notes=True)
        body = client_for(advisory).get(target).content.decode()
        assert '<details class="content-note" open>' not in body
        assert '<details class="content-note">' in body


class TestComments:
    def test_comment_reply_and_thread(self, client_for, world, advisory, lead, review):
        client = client_for(advisory)
        target = url("comment_create", review.slug, world["theme"].pk)
        response = client.post(
            target, {"body": "This matches my experience.\nSee https://example.org"}
        )
        comment = Comment.objects.get()
        assert response.status_code == 302
        assert response["Location"].endswith(f"#comment-{comment.pk}")
        assert comment.author == advisory and comment.shared_excerpt is None
        client_for(lead).post(target, {"body": "Thank you.", "parent": comment.pk})
        reply = Comment.objects.get(parent=comment)
        assert reply.author == lead
        page = client_for(advisory).get(url("advisory_theme", review.slug, world["theme"].pk))
        body = page.content.decode()
        assert 'href="https://example.org"' in body
        assert body.index(f'id="comment-{comment.pk}"') < body.index(f'id="comment-{reply.pk}"')

    def test_comment_on_a_quote(self, client_for, world, advisory, review):
        client_for(advisory).post(
            url("comment_create", review.slug, world["theme"].pk),
            {"body": "Hard to read.", "excerpt": world["excerpt"].pk},
        )
        assert Comment.objects.get().shared_excerpt == world["excerpt"]

    def test_no_html_is_rendered_from_comments(self, client_for, world, advisory, review):
        post_comment(shared_theme=world["theme"], author=advisory,
                     body='<script>alert(1)</script><a href="javascript:x">x</a>')  # fmt: skip
        body = client_for(advisory).get(url("advisory_theme", review.slug,
                                            world["theme"].pk)).content.decode()  # fmt: skip
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;" in body
        assert 'href="javascript:' not in body

    def test_empty_or_long_comment_keeps_the_text_and_says_why(self, client_for, world,
                                                                advisory, review):  # fmt: skip
        target = url("comment_create", review.slug, world["theme"].pk)
        response = client_for(advisory).post(target, {"body": "   "})
        assert response.status_code == 400
        response = client_for(advisory).post(target, {"body": "x" * 5001})
        assert response.status_code == 400
        assert "x" * 100 in response.content.decode()
        assert not Comment.objects.exists()

    def test_cannot_comment_on_an_unshared_theme_or_foreign_excerpt(
        self, client_for, world, advisory, review
    ):
        client = client_for(advisory)
        response = client.post(url("comment_create", review.slug, world["unshared"].pk),
                               {"body": "hi"})  # fmt: skip
        assert response.status_code == 404
        assert not Comment.objects.exists()

    def test_edit_keeps_history_and_only_the_author_edits(
        self, client_for, world, advisory, lead, review
    ):
        comment = post_comment(shared_theme=world["theme"], author=advisory, body="First words")
        response = client_for(lead).post(url("comment_edit", review.slug, comment.pk),
                                         {"body": "hijack"})  # fmt: skip
        assert response.status_code == 403
        client_for(advisory).post(url("comment_edit", review.slug, comment.pk),
                                  {"body": "Better words"})  # fmt: skip
        comment.refresh_from_db()
        assert comment.body == "Better words" and comment.edited_at
        assert list(comment.edits.values_list("body", flat=True)) == ["First words"]
        body = client_for(lead).get(url("advisory_theme", review.slug,
                                        world["theme"].pk)).content.decode()  # fmt: skip
        assert "Earlier wording" in body and "First words" in body

    def test_withdraw_keeps_the_shape_and_drops_the_text(
        self, client_for, world, advisory, lead, review
    ):
        comment = post_comment(shared_theme=world["theme"], author=advisory, body="Regret this")
        edit_comment(comment=comment, user=advisory, body="Regret this more")
        reply = post_comment(shared_theme=world["theme"], author=lead, body="Noted", parent=comment)
        assert (
            client_for(lead).post(url("comment_withdraw", review.slug, comment.pk)).status_code
            == 403
        )
        client_for(advisory).post(url("comment_withdraw", review.slug, comment.pk))
        comment.refresh_from_db()
        assert comment.withdrawn and comment.body == ""
        assert not CommentEdit.objects.filter(comment=comment).exists()
        body = client_for(advisory).get(url("advisory_theme", review.slug,
                                            world["theme"].pk)).content.decode()  # fmt: skip
        assert "Regret this" not in body
        assert "withdrawn by its author" in body
        assert f'id="comment-{reply.pk}"' in body
        with pytest.raises(CommentError):
            edit_comment(comment=comment, user=advisory, body="back")


class TestYouSaidWeDid:
    def test_lead_responds_with_a_revision_and_member_sees_it(
        self, client_for, world, advisory, lead, reviewer, review
    ):
        comment = post_comment(shared_theme=world["theme"], author=advisory,
                               body="Call it 'relationships with staff'.")  # fmt: skip
        revision = record_change(theme=world["theme"].theme, user=lead, reason="Advisory feedback",
                                 before={"plain_title": "Relationships with workers"},
                                 after={"plain_title": "Relationships with staff"})  # fmt: skip
        target = url("comment_respond", review.slug, comment.pk)
        assert client_for(reviewer).get(target).status_code == 403
        assert client_for(advisory).post(target, {"text": "x", "changed": "yes"}).status_code == 403
        response = client_for(lead).post(
            target, {"text": "We renamed the theme.", "changed": "yes", "revision": revision.pk}
        )
        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.response.revision == revision and comment.response.changed
        feedback = client_for(advisory).get(url("advisory_feedback", review.slug)).content.decode()
        assert "We renamed the theme." in feedback
        assert f"#revision-{revision.pk}" in feedback
        history = client_for(advisory).get(url("theme_history", review.slug,
                                               world["theme"].pk)).content.decode()  # fmt: skip
        assert "Advisory feedback" in history
        assert '<del><span class="visually-hidden">[removed: </span>workers' in history
        assert '<ins><span class="visually-hidden">[added: </span>staff' in history
        assert f"#comment-{comment.pk}" in history

    def test_feedback_page_shows_waiting_and_only_my_comments(
        self, client_for, world, advisory, lead, review
    ):
        post_comment(shared_theme=world["theme"], author=advisory, body="Mine")
        post_comment(shared_theme=world["theme"], author=lead, body="Not mine")
        body = client_for(advisory).get(url("advisory_feedback", review.slug)).content.decode()
        assert "Mine" in body and "Not mine" not in body
        assert "waiting for the team" in body

    def test_response_needs_text(self, world, advisory, lead):
        comment = post_comment(shared_theme=world["theme"], author=advisory, body="x")
        with pytest.raises(CommentError):
            respond(comment=comment, author=lead, text=" ", changed=False)

    def test_withdrawn_comment_cannot_be_edited_by_service(self, world, advisory):
        comment = post_comment(shared_theme=world["theme"], author=advisory, body="x")
        withdraw(comment=comment, user=advisory)
        with pytest.raises(CommentError):
            withdraw(comment=comment, user=advisory)

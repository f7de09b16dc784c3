"""The demo review's Advisory Group: seven members, shared themes, comments, responses, a
revision and a meeting."""

from advisory.models import Comment, CommentResponse, Meeting, SharedTheme
from coding.models import ThemeRevision
from reviewapp.demo import DEMO_SLUG, seed_demo
from reviewapp.models import Membership, Role


def test_demo_review_has_an_advisory_group_at_work(db):
    seed_demo()
    assert Membership.objects.filter(review__slug=DEMO_SLUG, role=Role.ADVISORY).count() == 7
    assert SharedTheme.objects.filter(review__slug=DEMO_SLUG, shared=True).count() == 6
    assert Comment.objects.filter(review__slug=DEMO_SLUG, parent__isnull=False).exists()
    response = CommentResponse.objects.get(changed=True)
    assert response.revision in ThemeRevision.objects.filter(review__slug=DEMO_SLUG)
    meeting = Meeting.objects.get(review__slug=DEMO_SLUG)
    assert meeting.actions.filter(done=True).exists() and meeting.actions.filter(done=False)
    counts = (Comment.objects.count(), Meeting.objects.count())
    seed_demo()
    assert (Comment.objects.count(), Meeting.objects.count()) == counts

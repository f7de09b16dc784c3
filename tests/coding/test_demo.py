"""The demo review's coding: the seed's six themes with their sub-points, a document per
included study, coded by both demo reviewers."""

from coding.demo import THEMES
from coding.models import Code, Document, Excerpt
from reviewapp.demo import DEMO_SLUG, seed_demo
from screening.models import Study


def test_demo_review_is_coded_into_the_six_themes(db):
    seed_demo()
    review_codes = Code.objects.filter(review__slug=DEMO_SLUG)
    themes = list(review_codes.filter(parent=None).order_by("position"))
    assert [t.name for t in themes] == [name for name, _ in THEMES]
    assert review_codes.filter(parent__isnull=False).count() == sum(len(s) for _, s in THEMES)
    assert "Passing the buck" in review_codes.values_list("name", flat=True)
    studies = Study.objects.filter(review__slug=DEMO_SLUG)
    assert studies.exists()
    assert Document.objects.filter(review__slug=DEMO_SLUG).count() == studies.count()
    coders = set(
        Excerpt.objects.filter(review__slug=DEMO_SLUG).values_list("coder__email", flat=True)
    )
    assert coders == {"reviewer1@demo.example", "reviewer2@demo.example"}
    text = Document.objects.filter(review__slug=DEMO_SLUG).first().versions.get().text
    assert text.startswith("[Demo text")
    # Every theme has coded evidence; running the seeding again adds nothing.
    assert all(Excerpt.objects.filter(codes=t).exists() for t in themes)
    count = Excerpt.objects.count()
    seed_demo()
    assert Excerpt.objects.count() == count

import csv

from django.core.management.base import BaseCommand, CommandError

from reviewapp.models import Review
from screening.models import Record

HEADER = ["batch_id", "source", "kind", "file_name", "position", "entry_id", "record_id"]


class Command(BaseCommand):
    help = (
        "Write one row per imported entry: its batch, source, file, position, its own ID, "
        "and the record it ended up in after deduplication."
    )

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("-o", "--output", required=True, metavar="FILE.csv")

    def handle(self, *args, review, output, **options):
        review_obj = Review.objects.filter(slug=review).first()
        if review_obj is None:
            raise CommandError(f"No review with slug {review!r}.")
        rows = (
            Record.objects.filter(review=review_obj)
            .order_by("batch_id", "position")
            .values_list(
                "batch_id",
                "batch__source",
                "batch__kind",
                "batch__file_name",
                "position",
                "source_id",
                "duplicate_of_id",
                "id",
            )
            .iterator(chunk_size=5000)
        )
        count = 0
        with open(output, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for batch_id, source, kind, file_name, position, entry_id, root, pk in rows:
                writer.writerow([batch_id, source, kind, file_name, position, entry_id, root or pk])
                count += 1
        self.stdout.write(f"Wrote {count} entries to {output}.")

import datetime
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from reviewapp.models import Review
from screening.importing import run_import
from screening.models import ImportBatch
from screening.services import UploadRejected, create_import_batch


class Command(BaseCommand):
    help = "Import search-result files into a review (same code as the web importer)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument(
            "--source",
            required=True,
            metavar="NAME",
            help="Database searched or other method, e.g. PsycINFO.",
        )
        parser.add_argument(
            "--other-methods",
            action="store_true",
            help="Records found by other methods (experts, citation searching).",
        )
        parser.add_argument("--search-date", metavar="YYYY-MM-DD")

    def handle(self, *args, files, review, source, other_methods, search_date, **options):
        review_obj = Review.objects.filter(slug=review).first()
        if review_obj is None:
            raise CommandError(f"No review with slug {review!r}.")
        date = None
        if search_date:
            try:
                date = datetime.date.fromisoformat(search_date)
            except ValueError as exc:
                raise CommandError(
                    f"--search-date {search_date!r} is not a YYYY-MM-DD date."
                ) from exc
        kind = ImportBatch.Kind.OTHER if other_methods else ImportBatch.Kind.DATABASE
        failures = []
        for name in files:
            error = self._import_one(review_obj, Path(name), source, kind, date)
            if error:
                failures.append(error)
                self.stderr.write(error)
        if failures:
            raise CommandError(f"{len(failures)} of {len(files)} file(s) rejected.")

    def _import_one(self, review, path, source, kind, date):
        if not path.is_file():
            return f"{path}: no such file"
        with path.open("rb") as handle:
            try:
                batch, inspection = create_import_batch(
                    review=review,
                    user=None,
                    upload=File(handle, name=path.name),
                    source=source,
                    kind=kind,
                    search_date=date,
                    run=False,
                )
            except UploadRejected as exc:
                return str(exc)
        if inspection.needs_mapping:
            batch.delete()
            return (
                f"{path.name}: no title or abstract column was recognised among "
                f"{', '.join(inspection.columns)}; import it through the web page, "
                "which lets you match the columns."
            )
        batch = run_import(batch)
        if batch.status == ImportBatch.Status.FAILED:
            return batch.error
        self.stdout.write(
            f"{path}: added {batch.records_added}, duplicates "
            f"{batch.duplicates_merged}, skipped {batch.skipped_count}"
        )
        return None

"""python manage.py export_review --review SLUG --format FORMAT -o FILE

The same writers the exports page runs on Celery, for scripts. The file appears whole or
not at all (written beside it, then renamed)."""

import os
import tempfile

from django.core.management.base import BaseCommand, CommandError

from exports.jobs import write_export
from exports.registry import FORMATS, ExportError
from reviewapp.models import Review


class Command(BaseCommand):
    help = "Export a review's data in one of the export formats."

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, help="The review's slug.")
        parser.add_argument("--format", required=True, help=", ".join(sorted(FORMATS)))
        parser.add_argument("-o", "--output", required=True, help="The file to write.")
        parser.add_argument(
            "--studies", default="", help="Included-studies formats: comma-separated study ids."
        )
        parser.add_argument(
            "--names",
            action="store_true",
            help="Involvement report: members' names, not Member A, B, ...",
        )

    def handle(self, *args, **opts):
        review = Review.objects.filter(slug=opts["review"]).first()
        if review is None:
            raise CommandError(f"No review with the slug “{opts['review']}”.")
        if opts["format"] not in FORMATS:
            raise CommandError(
                f"Unknown format “{opts['format']}”. Formats: {', '.join(sorted(FORMATS))}."
            )
        options = {}
        if opts["studies"]:
            try:
                options["studies"] = [int(s) for s in opts["studies"].split(",") if s.strip()]
            except ValueError as exc:
                raise CommandError("--studies takes study ids separated by commas.") from exc
        if opts["names"]:
            options["names"] = True
        target = os.path.abspath(opts["output"])
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                write_export(review, opts["format"], out, options=options)
            os.replace(temp, target)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        size = os.path.getsize(target)
        self.stdout.write(f"{opts['output']}: {opts['format']}, {size} bytes")

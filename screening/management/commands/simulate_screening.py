from django.core.management.base import BaseCommand, CommandError

from screening.prioritisation import DatasetError, load_labelled_csv, simulate


class Command(BaseCommand):
    help = (
        "Replay a labelled dataset through the prioritisation model (the app's ranking code) "
        "and report the work saved. Last line: records=N includes=R wss95=A recall10=B "
        "screened95=C screened100=D seconds=S."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("csv", metavar="CSV")
        parser.add_argument(
            "--label-column",
            default="label_included",
            metavar="COL",
            help="Column holding 1 (included) or 0 (excluded); default label_included.",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="Draws the two prior records; default 0."
        )
        parser.add_argument(
            "--retrain-every",
            type=int,
            default=1,
            metavar="K",
            help="Screen the top K records between retrains; default 1.",
        )

    def handle(self, *args, csv, label_column, seed, retrain_every, **options):
        if retrain_every < 1:
            raise CommandError("--retrain-every must be at least 1.")
        try:
            dataset = load_labelled_csv(csv, label_column)
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        labels = dataset.labels
        includes = int(labels.sum())
        if includes < 2 or includes == len(labels):
            raise CommandError(
                f"{csv}: {len(labels)} records, {includes} included; a simulation needs at "
                "least 2 included and 1 excluded record."
            )
        columns = dataset.columns
        self.stdout.write(
            f"{len(labels)} records, {includes} included; title column {columns['title']!r}, "
            f"abstract column {columns['abstract']!r}, keywords column "
            f"{columns['keywords']!r}; seed {seed}, retrain every {retrain_every}."
        )
        step = max(1, (len(labels) - 2) // 10)
        next_report = [step]

        def report(screened, found):
            if screened >= next_report[0]:
                self.stdout.write(f"screened {screened}, includes found {found}/{includes - 1}")
                next_report[0] = (screened // step + 1) * step

        result = simulate(
            dataset.records,
            labels,
            seed=seed,
            retrain_every=retrain_every,
            on_progress=report,
        )
        self.stdout.write(
            f"records={result.records} includes={result.includes} wss95={result.wss95:.4f} "
            f"recall10={result.recall10:.4f} screened95={result.screened95} "
            f"screened100={result.screened100} seconds={result.seconds:.1f}"
        )

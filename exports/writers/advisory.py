"""The Advisory Group's involvement report (GRIPP2 short form) as CSV ("involvement-csv")
and Word ("involvement-docx"): advisory.report builds and writes it; this registers each of
its formats for the export path.

Members are pseudonymised ("Member A", researchers by role) unless `options["names"]` is
true, the lead's explicit choice; even then no email address appears.
"""

from advisory.report import FORMATS, build_report

from ..registry import register

LABELS = {
    "involvement-csv": (
        "Advisory Group involvement (CSV)",
        "One row per comment: theme, author, response and what changed.",
    ),
    "involvement-docx": (
        "Advisory Group involvement report (Word)",
        "The GRIPP2 short-form report: aim, methods, results, outcomes, reflections.",
    ),
}


def _writer(write_report):
    def write(review, out, *, progress, options):
        progress(0.1, "Gathering comments, responses and meetings")
        report = build_report(review, pseudonymise=not options.get("names"))
        progress(0.6, "Writing the report")
        out.write(write_report(report))
        progress(1.0)

    return write


for _name, (_write_report, _content_type, _extension) in FORMATS.items():
    _label, _description = LABELS.get(_name, (f"Involvement report ({_extension})", ""))
    register(_name, label=_label, extension=_extension, content_type=_content_type,
             group="Advisory Group", description=_description)(_writer(_write_report))  # fmt: skip

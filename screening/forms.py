from django import forms

from .models import ImportBatch
from .queries import KNOWN_SOURCES


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="RIS, PubMed/MEDLINE (.nbib), Web of Science (.txt, .ciw, tab-delimited), "
        "EndNote XML, BibTeX, CSV, TSV or XLSX. The format is recognised from the content.",
    )
    source = forms.CharField(
        max_length=200,
        label="Source",
        help_text="The database searched (e.g. PsycINFO) or the other method (e.g. Expert "
        "recommendations).",
        widget=forms.TextInput(attrs={"list": "known-sources", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label="How these records were found",
        choices=ImportBatch.Kind.choices,
        initial=ImportBatch.Kind.DATABASE,
        widget=forms.RadioSelect,
    )
    search_date = forms.DateField(
        required=False, label="Date of search", widget=forms.DateInput(attrs={"type": "date"})
    )
    search_string = forms.CharField(
        required=False, label="Search string", widget=forms.Textarea(attrs={"rows": 3})
    )

    known_sources = KNOWN_SOURCES


# Our fields, in the order the mapping form shows them (keys of tabular.suggest_mapping).
MAPPABLE_FIELDS = [
    ("title", "Title"), ("abstract", "Abstract"), ("authors", "Authors"), ("year", "Year"),
    ("journal", "Journal or source title"), ("volume", "Volume"), ("issue", "Issue"),
    ("pages", "Pages"), ("start_page", "Start page"), ("end_page", "End page"),
    ("doi", "DOI"), ("pmid", "PubMed ID (PMID)"), ("url", "URL"), ("keywords", "Keywords"),
    ("language", "Language"), ("publication_type", "Publication type"),
    ("source_id", "Record ID in the source"),
]  # fmt: skip


class ColumnMappingForm(forms.Form):
    """One choice per field of ours, listing the file's columns."""

    def __init__(self, *args, columns, initial_mapping=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —")] + [(c, c) for c in columns]
        initial_mapping = initial_mapping or {}
        for name, label in MAPPABLE_FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=initial_mapping.get(name, ""),
            )

    def clean(self):
        data = super().clean()
        if not (data.get("title") or data.get("abstract")):
            raise forms.ValidationError("Choose the column that holds the title or the abstract.")
        return data

    @property
    def mapping(self):
        return {name: column for name, column in self.cleaned_data.items() if column}


class PairDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("duplicate", "Duplicate"), ("not_duplicate", "Not a duplicate")]
    )


class IncludeExcludeForm(forms.Form):
    """Include or exclude with an exclusion reason from the review's list: the shape shared by
    full-text decisions and conflict resolutions. Subclasses set the labels and the note, and
    say when the reason is required (`reason_required`, with `reason_message`)."""

    value_label = "Decision"
    reason_message = "Choose the exclusion reason: it is required to exclude."

    value = forms.ChoiceField(
        choices=[("include", "Include"), ("exclude", "Exclude")], widget=forms.RadioSelect
    )
    reason = forms.ModelChoiceField(
        label="Exclusion reason",
        queryset=None,
        required=False,
        empty_label="— choose a reason —",
    )

    def __init__(self, *args, review, **kwargs):
        from .models import ExclusionReason

        super().__init__(*args, **kwargs)
        self.fields["value"].label = self.value_label
        self.fields["reason"].queryset = ExclusionReason.objects.filter(review=review)

    def reason_required(self):
        return True

    def clean(self):
        data = super().clean()
        if data.get("value") == "exclude" and self.reason_required() and not data.get("reason"):
            self.add_error("reason", self.reason_message)
        return data

from django.urls import path

from .views import config, conflicts, fulltext, prioritisation, prisma, screen, stats
from .views import imports as views

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:batch_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:batch_id>/columns/", views.import_mapping, name="import_mapping"),
    path("records/", views.records, name="records"),
    path("records/<int:record_id>/", views.record_detail, name="record_detail"),
    path("records/<int:record_id>/undo-merge/", views.record_undo_merge,
         name="record_undo_merge"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/<int:pair_id>/", views.duplicate_pair, name="duplicate_pair"),
    *screen.urlpatterns,
    *conflicts.urlpatterns,
    *fulltext.urlpatterns,
    *config.urlpatterns,
    *stats.urlpatterns,
    *prisma.urlpatterns,
    *prioritisation.urlpatterns,
]  # fmt: skip

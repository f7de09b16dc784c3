from django.urls import path

from .views_restore import restore_upload

urlpatterns = [path("reviews/restore/", restore_upload, name="restore_review")]

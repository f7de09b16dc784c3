from django.contrib import admin
from django.urls import include, path

from . import views, views_care

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("help/", views_care.help_page, name="help"),
    path("text-size/", views_care.text_size, name="text_size"),
    path("session/keep-alive/", views_care.session_keep_alive, name="session_keep_alive"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("reviews/new/", views.review_create, name="review_create"),
    # Before reviews/<slug>/: "restore" is not a review.
    path("", include("exports.urls_restore")),
    path("reviews/<slug:slug>/", views.review_detail, name="review_detail"),
    path("reviews/<slug:slug>/settings/", views.review_settings, name="review_settings"),
    path("reviews/<slug:slug>/members/", views.members, name="members"),
    path(
        "reviews/<slug:slug>/members/<int:member_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "reviews/<slug:slug>/members/<int:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "reviews/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("reviews/<slug:slug>/", include("screening.urls")),
    path("reviews/<slug:slug>/coding/", include("coding.urls")),
    path("reviews/<slug:slug>/advisory/", include("advisory.urls")),
    path("reviews/<slug:slug>/", include("exports.urls")),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

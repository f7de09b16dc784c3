from .views import manage, meetings, members, preferences, report

urlpatterns = [
    *members.urlpatterns,
    *manage.urlpatterns,
    *meetings.urlpatterns,
    *preferences.urlpatterns,
    *report.urlpatterns,
]

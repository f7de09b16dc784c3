from .views import codebook, documents, synthesis, workspace

urlpatterns = [
    *workspace.urlpatterns,
    *documents.urlpatterns,
    *codebook.urlpatterns,
    *synthesis.urlpatterns,
]

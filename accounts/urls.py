from django.urls import path

from accounts import views

urlpatterns = [
    path("preferences/<slug:name>/", views.preference_set, name="preference_set"),
    path("viewer.css", views.css_for_viewer, name="viewer_css"),
]

from django.urls import path

from accounts import views

urlpatterns = [
    path("preferences/<slug:name>/", views.preference_set, name="preference_set"),
    path("viewer.css", views.css_for_viewer, name="viewer_css"),
    # Beside allauth's pages (config/urls.py includes them under accounts/ first).
    path("accounts/profile/", views.profile_edit, name="profile"),
    path("media/avatars/<str:name>", views.avatar_file, name="avatar_file"),
    path("people/<str:username>/block/", views.person_block, {"block": True}, name="person_block"),
    path("people/<str:username>/unblock/", views.person_block, {"block": False}, name="person_unblock"),
]

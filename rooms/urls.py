from django.urls import path

from rooms import people_views, views

# Before messages_app's patterns (config/urls.py): "rooms/new/" is not a room's slug.
urlpatterns = [
    path("rooms/new/", views.room_new, name="room_new"),
    path("invite/<slug:token>/", views.invitation_detail, name="invitation_detail"),
    path("people/", people_views.people_directory, name="people"),
    path("people/<str:username>/", people_views.person_detail, name="person_detail"),
    path("people/<str:username>/message/", views.direct_with_person, name="direct_with_person"),
    path("presence/people/", people_views.presence_people, name="presence_people"),
    path("dm/new/", views.direct_new, name="direct_new"),
]

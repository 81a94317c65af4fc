from django.urls import path

from attachments import views

urlpatterns = [
    path("attachments/<int:pk>/thumb/", views.attachment_thumbnail, name="attachment_thumbnail"),
    path("attachments/<int:pk>/<str:name>", views.attachment_download, name="attachment_download"),
    path("rooms/<slug:slug>/files/", views.room_files, name="room_files"),
]

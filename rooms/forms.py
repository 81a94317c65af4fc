from django import forms

from rooms.models import Room


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "topic", "is_private"]
        labels = {"is_private": "Private (members join by invitation only)"}

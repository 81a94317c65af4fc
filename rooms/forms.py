from datetime import timedelta

from django import forms

from rooms.models import Room


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "topic", "is_private"]
        labels = {"is_private": "Private (members join by invitation only)"}


class InviteForm(forms.Form):
    """Invite someone by username (the rules live in rooms.services.room_invite)."""

    username = forms.CharField(max_length=150, error_messages={"required": "Enter a username."})


# How long a new invite link lasts: the choices the panel offers.
LINK_LIFETIMES = {
    "never": ("Never expires", None),
    "1h": ("1 hour", timedelta(hours=1)),
    "1d": ("1 day", timedelta(days=1)),
    "7d": ("7 days", timedelta(days=7)),
}


class InvitationForm(forms.Form):
    """Create an invite link; `expires_in` is None (never) or a timedelta."""

    expires = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in LINK_LIFETIMES.items()],
        initial="7d",
        error_messages={
            "required": "Choose how long the link lasts.",
            "invalid_choice": "Choose how long the link lasts.",
        },
    )

    def expires_in(self):
        return LINK_LIFETIMES[self.cleaned_data["expires"]][1]


class RoomSettingsForm(forms.Form):
    """The owner's settings of a room (the rules live in rooms.services.room_settings_update)."""

    name = forms.CharField(max_length=80, error_messages={"required": "A room needs a name."})
    topic = forms.CharField(max_length=200, required=False)
    is_private = forms.BooleanField(required=False)


class RoomDeleteForm(forms.Form):
    """Deleting a room for good asks for its name, typed out: no slip of a click."""

    confirm_name = forms.CharField(max_length=80, required=False, strip=True)

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room

    def clean_confirm_name(self):
        typed = self.cleaned_data["confirm_name"]
        if typed != self.room.name:
            raise forms.ValidationError(f"Type the room's name, “{self.room.name}”, to delete it.")
        return typed

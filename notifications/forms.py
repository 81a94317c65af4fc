from django import forms

from notifications.models import Level, Preferences

QUIET_CHOICES = [
    ("30", "For 30 minutes"),
    ("60", "For 1 hour"),
    ("120", "For 2 hours"),
    ("480", "For 8 hours"),
    ("tomorrow", "Until tomorrow, 8:00"),
    ("week", "For a week"),
]


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["room_level", "direct_level", "email_enabled"]
        labels = {
            "room_level": "In rooms, notify me of",
            "direct_level": "In direct conversations, notify me of",
            "email_enabled": "Email me mentions and direct messages I have not read after a while",
        }
        widgets = {"room_level": forms.RadioSelect, "direct_level": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("room_level", "direct_level"):
            self.fields[name].choices = Level.choices  # no empty choice: one is always in force


class QuietForm(forms.Form):
    """Do not disturb: for how long (push and email stay silent meanwhile)."""

    duration = forms.ChoiceField(choices=QUIET_CHOICES, label="Do not disturb")

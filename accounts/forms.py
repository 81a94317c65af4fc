"""The profile form (GET/POST /accounts/profile/): fields as the design names them
(`display_name`, `status`, `time_zone`, `avatar`), plus `status_emoji` and
`avatar_clear`. The rules themselves live in accounts/services.py."""

from django import forms
from django.core.exceptions import ValidationError

from accounts import services
from accounts.images import AVATAR_MAX_BYTES

# A few to pick from; any other single emoji may be typed (no picker yet).
STATUS_EMOJI_SUGGESTIONS = ["💬", "🏠", "🌴", "🍽️", "🤒", "🎧", "📅", "🚗", "🎉", "🔕"]


def _time_zone_choices():
    return [("", "Not set")] + [(name, name.replace("_", " ")) for name in sorted(services.time_zone_names())]


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        required=False,
        max_length=services.DISPLAY_NAME_MAX,
        help_text="Shown instead of your username. Leave empty to use your username.",
    )
    status_emoji = forms.CharField(
        required=False,
        max_length=32,
        label="Status emoji",
        help_text="One emoji, optional: " + " ".join(STATUS_EMOJI_SUGGESTIONS[:5]) + " …",
        widget=forms.TextInput(attrs={"list": "status-emoji-choices", "autocomplete": "off", "size": 4}),
    )
    status = forms.CharField(required=False, max_length=services.STATUS_TEXT_MAX, label="Status")
    time_zone = forms.ChoiceField(required=False, choices=_time_zone_choices, label="Time zone")
    avatar = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        label="Avatar",
        help_text=f"A JPEG, PNG, WebP or GIF of at most {AVATAR_MAX_BYTES // (1024 * 1024)} MB; "
        "it is cropped to a square.",
    )
    avatar_clear = forms.BooleanField(required=False, label="Remove my avatar")

    def __init__(self, *args, has_avatar=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_avatar:  # nothing to remove
            del self.fields["avatar_clear"]

    def clean_avatar_clear(self):
        return self.cleaned_data.get("avatar_clear", False)

    def _by_rule(self, rule, field):
        try:
            return rule(self.cleaned_data.get(field, ""))
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def clean_display_name(self):
        return self._by_rule(services.clean_display_name, "display_name")

    def clean_status_emoji(self):
        return self._by_rule(services.clean_status_emoji, "status_emoji")

    def clean_status(self):
        return self._by_rule(services.clean_status_text, "status")

    def clean_time_zone(self):
        return self._by_rule(services.clean_time_zone, "time_zone")

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        # Refused before a byte of it is decoded (the image checks run in avatar_set).
        if upload and upload.size > AVATAR_MAX_BYTES:
            raise ValidationError(f"The picture is larger than {AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
        return upload

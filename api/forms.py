from django import forms

from api.models import ApiToken


class TokenForm(forms.Form):
    """A new personal access token (GET/POST /accounts/tokens/)."""

    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “deploy bot”: only you see it.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="A read token cannot post, edit or delete.",
    )

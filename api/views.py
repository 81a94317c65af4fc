"""The personal access tokens page (GET/POST /accounts/tokens/) and revoking one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import TokenForm
from api.selectors import token_list
from api.services import TokenRefused, token_create, token_revoke
from rooms.shortcuts import see_other


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_page(request):
    """The user's tokens and the form for a new one. A new token's secret is in this
    answer only (no redirect: it must not wait in the session), and never cached."""
    form, secret, status = TokenForm(request.POST or None), None, 200
    if request.method == "POST":
        secret = _token_made(request, form)
        status = 200 if secret else 400
        if secret:
            form = TokenForm()
    context = {"form": form, "secret": secret, "tokens": token_list(user=request.user)}
    return render(request, "api/tokens.html", context, status=status)


def _token_made(request, form):
    if not form.is_valid():
        return None
    try:
        _, secret = token_create(
            user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
        )
    except TokenRefused as refusal:
        form.add_error(None, str(refusal))
        return None
    return secret


@login_required
@require_POST
def token_revoke_view(request, pk):
    if not token_revoke(user=request.user, token_id=pk):
        raise Http404("No such token.")
    messages.success(request, "The token is revoked: requests with it are refused from now on.")
    return see_other("/accounts/tokens/")

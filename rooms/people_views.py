"""The people pages: the directory of everyone (searchable by name), a person's
profile with the rooms we share, and the online state of the people a page shows
(static/js/ui.js asks for it again every CHAT_PRESENCE_POLL_SECONDS)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import block_exists, local_time, people_search
from config.params import id_list_param, page_param, text_param
from rooms.presence.stores import presence_online
from rooms.selectors import person_get, rooms_shared

PEOPLE_PER_PAGE = 50
# The most people one presence request may ask about (a page shows a few dozen dots).
PRESENCE_IDS_MAX = 200


@login_required
@require_GET
def people_directory(request):
    """Everyone, by name, a page at a time; `?q=` narrows by name. To htmx (the live
    filter), the results alone."""
    query = text_param(request.GET, "q", keep=100)
    page = Paginator(people_search(query=query), PEOPLE_PER_PAGE).get_page(page_param(request.GET))
    people = list(page.object_list)
    context = {
        "query": query,
        "page": page,
        "people": people,
        "online_ids": presence_online(user_ids=[person.pk for person in people]),
    }
    template = "rooms/partials/people_results.html" if request.htmx else "rooms/people.html"
    return render(request, template, context)


@login_required
@require_GET
def person_detail(request, username):
    """A person's profile: who they are, their local time, whether they are online,
    and the rooms we share. An unknown username is a 404."""
    person = person_get(username=username)
    if person is None:
        raise Http404("No such person.")
    context = {
        "person": person,
        "is_me": person.pk == request.user.pk,
        "local_time": local_time(time_zone=person.time_zone),
        "online_ids": presence_online(user_ids=[person.pk]),
        "shared_rooms": rooms_shared(user=request.user, person=person),
        "blocked": block_exists(blocker=request.user, blocked=person),
    }
    return render(request, "rooms/person.html", context)


@login_required
@require_GET
def presence_people(request):
    """`?ids=1,2,3`: which of these people are online now, as JSON `{"online": [ids]}`.
    Anyone signed in may ask: the people directory shows everyone's dot."""
    ids = id_list_param(request.GET, "ids", limit=PRESENCE_IDS_MAX)
    online = presence_online(user_ids=ids)
    response = JsonResponse({"online": sorted(online)})
    response["Cache-Control"] = "no-store"
    return response

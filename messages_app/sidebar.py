"""What a page shows of the user's own rooms: the room page's sidebar and the home
page's lists, rendered for the page and again for its socket when they change."""

from django.template.loader import render_to_string

from messages_app.selectors import membership_list_for_user, room_list_discover


def home_context(*, user, memberships=None):
    """The home page's lists: invitations to answer, my rooms, public rooms to discover."""
    if memberships is None:
        memberships = membership_list_for_user(user=user)
    memberships = list(memberships)
    return {
        "my_memberships": memberships,
        "memberships": memberships,
        "invitations": [membership for membership in memberships if membership.invitation_pending],
        "discover_rooms": list(room_list_discover(user=user)),
    }


def sidebar_html(*, memberships, current=None):
    """The sidebar's invitations and room links, out of band (room_links.html)."""
    context = {"memberships": list(memberships), "current": current, "oob": True}
    return render_to_string("rooms/partials/room_links.html", context)


def home_html(*, user, memberships):
    """The home page's three lists, out of band (one query: the rooms to discover)."""
    return render_to_string("rooms/partials/home_oob.html", home_context(user=user, memberships=memberships))


def room_link_html(membership, *, current=None, home=False):
    """One room's link (its badge changed), as the sidebar or the home page shows it."""
    template = "rooms/partials/home_room_link.html" if home else "rooms/partials/room_link.html"
    return render_to_string(template, {"membership": membership, "current": current, "oob": True})

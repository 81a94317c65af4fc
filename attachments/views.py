"""Downloads and the room's files panel. Every request checks that the user may read
the file's room, as its history does: a private room's files are a 404 to others."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from attachments.selectors import attachment_get, attachment_list_for_room
from config.params import id_param
from config.security import CONTENT_SECURITY_POLICY, HEADER
from config.stored_files import stored_file_response
from rooms.shortcuts import readable_room_or_404

# A file opened in a tab (a picture, or a text the browser shows) runs nothing and
# reaches nothing, whatever it holds.
FILE_POLICY = f"{CONTENT_SECURITY_POLICY}; sandbox"


def _served(response):
    response[HEADER] = FILE_POLICY
    return response


def _readable_attachment_or_404(request, pk):
    attachment = attachment_get(pk=pk)
    if attachment is None:
        raise Http404("No such file.")
    readable_room_or_404(slug=attachment.room.slug, user=request.user)
    return attachment


@login_required
@require_GET
def attachment_download(request, pk, name):
    """The file as uploaded: pictures of the safe types inline, anything else as a
    download; from object storage, a redirect to a URL that expires in minutes."""
    attachment = _readable_attachment_or_404(request, pk)
    if name != attachment.name:
        raise Http404("No such file.")
    return _served(
        stored_file_response(
            attachment.file.name,
            content_type=attachment.content_type,
            download_name=attachment.name,
            inline=True,  # honoured for safe image types only (stored_file_response)
        )
    )


@login_required
@require_GET
def attachment_thumbnail(request, pk):
    attachment = _readable_attachment_or_404(request, pk)
    if not attachment.is_image:
        raise Http404("This file has no thumbnail.")
    animated = attachment.thumbnail.name == attachment.file.name
    return _served(
        stored_file_response(
            attachment.thumbnail.name,
            content_type=attachment.content_type if animated else "image/webp",
            download_name=attachment.name,
            inline=True,
            max_age=3600,
        )
    )


@login_required
@require_GET
def room_files(request, slug):
    """The room's files, newest first (the room menu's Files panel)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    files, has_older = attachment_list_for_room(room=access.room, before_id=id_param(request.GET, "before"))
    context = {"room": access.room, "files": files, "has_older": has_older}
    template = "attachments/partials/files_panel.html" if request.htmx else "attachments/files.html"
    return render(request, template, context)

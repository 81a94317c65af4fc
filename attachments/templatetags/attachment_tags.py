from django import template

from attachments.services import size_text

register = template.Library()

ICON_LABELS = {"pdf": "PDF", "archive": "ZIP", "image": "IMG", "audio": "AUD", "video": "VID", "text": "TXT"}


@register.filter
def file_size(size):
    return size_text(size)


@register.filter
def file_icon_label(kind):
    return ICON_LABELS.get(kind, "FILE")

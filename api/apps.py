from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API, personal access tokens, incoming webhooks and the Slack import: the doors
    through which tools and other chats come in. It sits above messages_app and writes only
    through its services, so rules, limits and the live fan-out apply unchanged."""

    name = "api"
    verbose_name = "API and integrations"

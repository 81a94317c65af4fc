from django.apps import AppConfig


class MessagesAppConfig(AppConfig):
    name = "messages_app"
    label = "messages_app"
    verbose_name = "Messages"

    def ready(self):
        from messages_app import tasks

        tasks.connect()  # link previews: posts and edits with a link queue a fetch

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from config.schedule import periodic_register
        from notifications import receivers, tasks
        from notifications.digest import DIGEST_EVERY

        receivers.connect()
        periodic_register(tasks.email_digest_send, every=DIGEST_EVERY)

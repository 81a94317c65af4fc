from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Attachments"

    def ready(self):
        from attachments import receivers, tasks
        from config.schedule import periodic_register

        receivers.connect()
        periodic_register(tasks.attachments_sweep, every=tasks.SWEEP_EVERY)

"""Close the sockets of a login that ended (see accounts/services.py).

- Logging out (Django's user_logged_out, which allauth's logout sends too).
- A password change, however made: allauth's change, reset and set views, the
  admin, `manage.py changepassword`, or set_password() and save() in a shell. All
  of them save the user, so one pre_save/post_save pair that compares the password
  hash covers them, where allauth's password_changed/password_reset/password_set
  signals would miss the admin and the shell (and connected too, would send twice).
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.services import user_password_change, user_session_end


@receiver(user_logged_out)
def end_session_sockets(sender, request, user, **kwargs):
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        user_session_end(user_id=user.pk, session_key=session_key)


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """One query, and only for saves that may write the password (not last_login's)."""
    instance._password_changed = False
    if raw or instance._state.adding or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_sockets_of_old_password(sender, instance, **kwargs):
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False
        user_password_change(user_id=instance.pk)

from celery import shared_task

from portal import emails, services


@shared_task
def send_sign_in_link(email: str, url: str, store_id: str, language: str = "en") -> None:
    emails.send_sign_in_link(email, url, store_id, language)


@shared_task
def purge_portal_sessions() -> int:
    return services.sessions_purge()

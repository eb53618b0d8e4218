"""Tasks of the stores app: ids in, state re-read, safe to run twice."""

from celery import shared_task

from stores import emails, services


@shared_task
def send_team_invite(membership_id: str) -> None:
    emails.send_team_invite(membership_id)


@shared_task
def send_magic_link(email: str, url: str) -> None:
    emails.send_magic_link(email, url)


@shared_task
def purge_expired_buyer_sessions() -> int:
    return services.buyer_sessions_purge()

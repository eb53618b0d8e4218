"""One error family for the whole API. Services raise; the envelope renders.

``errors[]`` lists the root cause first: ``raise Outer(...) from inner`` chains, and the
root cause's status wins.
"""

from __future__ import annotations


class PancakeError(Exception):
    status = 400
    layer = "gateway"
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, layer: str | None = None, headers: dict | None = None):
        super().__init__(message)
        if layer is not None:
            self.layer = layer
        if headers:
            self.headers = {**self.headers, **headers}

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(PancakeError):
    status = 400


class Unauthenticated(PancakeError):
    status = 401
    layer = "user"


class Forbidden(PancakeError):
    status = 403
    layer = "user"


class NotFound(PancakeError):
    status = 404
    layer = "resource"


class MethodNotAllowed(PancakeError):
    status = 405


class Conflict(PancakeError):
    status = 409


class PayloadTooLarge(PancakeError):
    status = 413


class IdempotencyMismatch(PancakeError):
    status = 422


class RateLimited(PancakeError):
    status = 429

    def __init__(self, retry_after: int, message: str = "Too many requests, please retry later"):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class ServerError(PancakeError):
    status = 500


class NotImplementedYet(PancakeError):
    status = 501


class ProviderFailed(PancakeError):
    status = 502
    layer = "order"


def error_chain(exc: BaseException) -> list[PancakeError]:
    """The PancakeErrors of an exception chain, root cause first."""
    chain: list[PancakeError] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while isinstance(current, PancakeError) and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__
    return chain[::-1]


def error_list(exc: BaseException) -> list[dict]:
    return [{"message": str(e), "layer": e.layer} for e in error_chain(exc)]

"""One error family for the whole API. Services raise; the envelope renders.

``errors[]`` lists the root cause first: ``raise Outer(...) from inner`` chains, and the
root cause's status wins.

Every error carries, beside its message, the input ``field`` it is about (``None`` when it is
about no one field; dotted for nested input: ``"billingDetail.taxId"``) and a stable ``code``
(``"required"``, ``"invalid"``, ``"not_found"`` …). Forms and pages read those two to put the
message beside the right input and to choose what to show; nobody parses the message text,
which is free to change and to be translated.
"""

from __future__ import annotations


class PancakeError(Exception):
    status = 400
    layer = "gateway"
    code = "invalid"
    headers: dict[str, str] = {}

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        headers: dict | None = None,
        field: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        if layer is not None:
            self.layer = layer
        if headers:
            self.headers = {**self.headers, **headers}
        self.field = field
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(PancakeError):
    status = 400


class Unauthenticated(PancakeError):
    status = 401
    layer = "user"
    code = "unauthenticated"


class Forbidden(PancakeError):
    status = 403
    layer = "user"
    code = "forbidden"


class NotFound(PancakeError):
    status = 404
    layer = "resource"
    code = "not_found"


class MethodNotAllowed(PancakeError):
    status = 405
    code = "method_not_allowed"


class Conflict(PancakeError):
    status = 409
    code = "conflict"


class PayloadTooLarge(PancakeError):
    status = 413
    code = "too_large"


class IdempotencyMismatch(PancakeError):
    status = 422
    code = "idempotency_mismatch"


class RateLimited(PancakeError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str = "Too many requests, please retry later"):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class ServerError(PancakeError):
    status = 500
    code = "server_error"


class NotImplementedYet(PancakeError):
    status = 501
    code = "not_implemented"


class ProviderFailed(PancakeError):
    status = 502
    layer = "order"
    code = "provider_failed"


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

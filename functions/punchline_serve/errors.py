"""Exceptions the function turns into HTTP answers; messages name the bad value."""


class PunchlineError(Exception):
    """Base class: carries the HTTP status the error maps to."""

    status = 500

    def payload(self) -> dict:
        return {"error": str(self)}

    def headers(self, settings) -> dict:
        """HTTP headers this answer needs besides the body (settings may be None if they failed to load)."""
        return {}


class BadRequest(PunchlineError):
    """The caller sent a value outside what the function accepts."""

    status = 400

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

    def payload(self) -> dict:
        return {"error": str(self), "field": self.field}


class BodyTooLarge(PunchlineError):
    status = 413


class MethodNotAllowed(PunchlineError):
    status = 405

    def __init__(self, method: str, allowed: tuple[str, ...]):
        super().__init__(f"method {method} is not allowed here; use {', '.join(allowed)}")
        self.allowed = allowed

    def headers(self, settings) -> dict:
        return {"Allow": ", ".join(self.allowed)}


class OriginRefused(PunchlineError):
    """A CORS preflight from an origin that ALLOWED_ORIGINS does not list."""

    status = 403

    def __init__(self, origin: str):
        super().__init__(f"origin {origin[:100]!r} is not allowed by ALLOWED_ORIGINS")


class RateLimited(PunchlineError):
    """One client asked for more than RATE_LIMIT allows on this instance."""

    status = 429

    def __init__(self, rate: str, retry_after_s: int):
        super().__init__(f"too many requests: the limit is {rate} per client; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s

    def headers(self, settings) -> dict:
        return {"Retry-After": str(self.retry_after_s)}


class NotFound(PunchlineError):
    status = 404


class ConfigError(PunchlineError):
    """A deployment setting (environment variable) has a bad value."""

    status = 500


class ModelUnavailable(PunchlineError):
    """The model bundle could not be fetched or failed verification; try again later."""

    status = 503

    def headers(self, settings) -> dict:
        return {"Retry-After": str(settings.retry_after_s)} if settings is not None else {}


class BundleError(ModelUnavailable):
    """The bundle was fetched but its manifest or a file is invalid."""

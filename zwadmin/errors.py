"""Domain errors: a refusal that names its field and its HTTP status, raised by services and views alike.

``zwadmin.exception_handlers`` turns every one into the project's single error body
(``{"detail": message, "errors": {field: [message]}}``, docs/protocol.md "General"), so no view builds
that body by hand. Each app declares its own subclasses next to the rules they enforce
(``customers.errors``).
"""

from http import HTTPStatus


class DomainError(Exception):
    """A request refused for a reason the sender can act on.

    Subclasses set ``status`` and ``field`` (the parameter the message is about); the message is the
    instance's first argument, or the class's ``message`` (a lazy translation, rendered when answered).
    ``headers`` go out with the answer (``WWW-Authenticate`` for a 401).
    """

    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    field: str = "non_field_errors"
    message = ""
    headers: dict[str, str] = {}

    def __init__(self, message=None):
        self.detail = message if message is not None else self.message
        super().__init__(str(self.detail))

    def body(self) -> dict:
        detail = str(self.detail)
        return {"detail": detail, "errors": {self.field: [detail]}}

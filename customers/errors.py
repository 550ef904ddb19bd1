"""Refusals about a customer of the registry, with the field and status each is answered with.

Raised by the lookup, the commits and the management API alike; ``zwadmin.exception_handlers`` answers
them as ``{"detail", "errors": {field: [message]}}`` (docs/protocol.md). A batch commit rejects a record
with the same ``errors`` (``.body()["errors"]``).
"""

from http import HTTPStatus

from django.utils.translation import gettext_lazy as _

from zwadmin.errors import DomainError


class UnknownCode(DomainError):
    """No customer of the registry has the code (a removed customer's code is not unknown)."""

    status = HTTPStatus.NOT_FOUND
    field = "code"
    message = _("No customer has this code.")


class RemovedCustomer(DomainError):
    """The code is a customer's that was removed from the registry: its reports are refused.

    403, not 410: the console can restore the customer, so "gone for good" would be untrue.
    """

    status = HTTPStatus.FORBIDDEN
    field = "code"
    message = _("This customer has been removed from the registry.")


class UnknownCustomerId(DomainError):
    """``/customer/remove`` named an id that no customer in the registry has."""

    status = HTTPStatus.NOT_FOUND
    field = "id"
    message = _("No customer in the registry has this id.")


class IngestKeyRejected(DomainError):
    """The customer requires its ingest key, and the report carried none or a wrong one."""

    status = HTTPStatus.UNAUTHORIZED
    field = "key"
    headers = {"WWW-Authenticate": 'Bearer realm="zwadmin"'}
    missing = _("This customer's reports must carry its ingest key (Authorization: Bearer <key>, or key=<key>).")
    wrong = _("This is not the customer's ingest key.")

    def __init__(self, *, carried: bool):
        self.carried = carried
        super().__init__(self.wrong if carried else self.missing)

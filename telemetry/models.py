"""What deployed IM servers report (docs/protocol.md, "Server interface").

Field names of the per-user and per-group figures are the wire names
(``fmsgs``, ``ucount`` …) so that ``?ordering=-fmsgs`` and the CSV columns
say what the interface document says.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer

from .states import differs

MAX_COUNT = 2**63 - 1  # "counts fit in 64 bits": PostgreSQL's bigint is signed


def count_field(verbose_name):
    return models.BigIntegerField(verbose_name, default=0)


def non_negative(*fields: str, prefix: str):
    return [models.CheckConstraint(condition=models.Q(**{f"{f}__gte": 0}), name=f"{prefix}_{f}_gte_0") for f in fields]


class ServerFields(models.Model):
    """What one ``/api/server/commit`` carries, plus when and from where it arrived."""

    name = models.CharField(_("reported name"), max_length=100, blank=True)
    mac = models.CharField(_("reported MAC"), max_length=23, blank=True)
    ip = models.GenericIPAddressField(_("reported IP"), null=True, blank=True)
    timeout = models.DateField(_("reported licence expiry"), null=True, blank=True)
    count = count_field(pgettext_lazy("number of", "users"))
    updatetimes = count_field(_("address-book updates"))
    reported_at = models.DateTimeField(_("reported at"))
    sender_address = models.GenericIPAddressField(_("sender address"), null=True, blank=True)

    class Meta:
        abstract = True


class ServerReport(ServerFields):
    """One status report of a customer's IM server, kept as history (pruned after a retention age)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="server_reports", verbose_name=_("customer")
    )

    class Meta:
        verbose_name = _("server report")
        verbose_name_plural = _("server reports")
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["customer", "-reported_at"], name="serverreport_customer_time_idx"),
            models.Index(fields=["reported_at"], name="serverreport_time_idx"),
            # PostgreSQL also has trigram indexes of the name, MAC and IP the console searches (migration 0004).
        ]
        constraints = non_negative("count", "updatetimes", prefix="serverreport")

    def __str__(self):
        return f"{self.customer_id} @ {self.reported_at:%Y-%m-%d %H:%M}"


class ServerStatus(ServerFields):
    """The latest report of each customer's server: what the fleet views read.

    The reported MAC and licence expiry are compared with the registry when
    read (``mac_mismatch``, ``timeout_mismatch``, by ``telemetry.states.differs``),
    so editing the registry clears or raises the flag at once.
    """

    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="server_status",
        verbose_name=_("customer"),
    )
    first_reported_at = models.DateTimeField(_("first reported at"))
    reports = models.PositiveBigIntegerField(_("reports received"), default=0)

    class Meta:
        verbose_name = _("server status")
        verbose_name_plural = _("server statuses")
        indexes = [models.Index(fields=["reported_at"], name="serverstatus_time_idx")]
        constraints = non_negative("count", "updatetimes", prefix="serverstatus")

    def __str__(self):
        return str(self.customer)

    @property
    def mac_mismatch(self) -> bool:
        """The server runs on a MAC the customer was not licensed for (no licensed MAC: nothing to compare)."""
        return differs(self.customer.mac, self.mac)

    @property
    def timeout_mismatch(self) -> bool:
        """The server's licence expiry is not the one in the registry."""
        return differs(self.customer.timeout, self.timeout)


class ImUser(models.Model):
    """Usage figures of one IM user of a customer, keyed by (customer, uuid); the latest report wins."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the (customer, uuid) constraint's index serves every per-customer read, and one
    # index fewer is one fewer to update for each of a 50,000-user batch's rows (docs/performance.md).
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="im_users", verbose_name=_("customer"), db_index=False
    )
    uuid = models.CharField(_("user uuid"), max_length=64)
    nickname = models.CharField(_("nickname"), max_length=100, blank=True)
    onlinetime = count_field(_("online time"))
    andtimes = count_field(_("Android online time"))
    pctimes = count_field(_("PC online time"))
    iostimes = count_field(_("iOS online time"))
    fmsgs = count_field(_("messages sent"))
    tmsgs = count_field(_("messages received"))
    first_reported_at = models.DateTimeField(_("first reported at"))
    last_reported_at = models.DateTimeField(_("last reported at"))

    FIGURES = ("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs")

    class Meta:
        verbose_name = _("IM user")
        verbose_name_plural = _("IM users")
        ordering = ["customer", "uuid"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "uuid"], name="imuser_customer_uuid_uniq"),
            *non_negative("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs", prefix="imuser"),
        ]
        indexes = [
            models.Index(fields=["customer", "last_reported_at"], name="imuser_customer_last_idx"),
            models.Index(fields=["customer", "nickname"], name="imuser_customer_nickname_idx"),
            # The lists' "most active users" (?ordering=-fmsgs, ?fmsgs__gte=): an index range, not a scan of
            # the customer's rows. The other figures are rarer sorts and cost one scan (docs/performance.md).
            models.Index(fields=["customer", "fmsgs"], name="imuser_customer_fmsgs_idx"),
            # PostgreSQL also has trigram indexes of the nickname and uuid the searches compare (0003, 0004).
        ]

    def __str__(self):
        return self.nickname or self.uuid


class ImGroup(models.Model):
    """Usage figures of one IM group of a customer, keyed by (customer, gid); the latest report wins."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the (customer, gid) constraint's index serves every per-customer read.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="im_groups", verbose_name=_("customer"), db_index=False
    )
    gid = models.CharField(_("group id"), max_length=64)
    name = models.CharField(_("group name"), max_length=100, blank=True)
    createrid = models.CharField(_("creator id"), max_length=64, blank=True)
    creatername = models.CharField(_("creator name"), max_length=100, blank=True)
    ucount = count_field(_("members"))
    msgcount = count_field(_("messages"))
    ctime = models.DateTimeField(_("created at"), null=True, blank=True)
    fcount = count_field(_("files shared"))
    ncount = count_field(_("notices"))
    first_reported_at = models.DateTimeField(_("first reported at"))
    last_reported_at = models.DateTimeField(_("last reported at"))

    FIGURES = ("ucount", "msgcount", "fcount", "ncount")

    class Meta:
        verbose_name = _("IM group")
        verbose_name_plural = _("IM groups")
        ordering = ["customer", "gid"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "gid"], name="imgroup_customer_gid_uniq"),
            *non_negative("ucount", "msgcount", "fcount", "ncount", prefix="imgroup"),
        ]
        indexes = [
            models.Index(fields=["customer", "last_reported_at"], name="imgroup_customer_last_idx"),
            models.Index(fields=["customer", "name"], name="imgroup_customer_name_idx"),
        ]

    def __str__(self):
        return self.name or self.gid


class UnregisteredServer(models.Model):
    """A code that reports to us but is not in the registry: an unlicensed or unregistered deployment.

    Bounded (``TELEMETRY_MAX_UNREGISTERED``): once full, new codes are only logged, so junk cannot fill
    the database; codes already listed keep being updated.
    """

    id = models.BigAutoField(primary_key=True)
    code = models.CharField(_("reported code"), max_length=12, unique=True)
    name = models.CharField(_("reported name"), max_length=100, blank=True)
    mac = models.CharField(_("reported MAC"), max_length=23, blank=True)
    ip = models.GenericIPAddressField(_("reported IP"), null=True, blank=True)
    count = count_field(pgettext_lazy("number of", "users"))
    sender_address = models.GenericIPAddressField(_("sender address"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    reports = models.PositiveBigIntegerField(_("reports received"), default=0)

    class Meta:
        verbose_name = _("unregistered server")
        verbose_name_plural = _("unregistered servers")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["last_seen_at"], name="unregistered_last_seen_idx")]

    def __str__(self):
        return f"{self.code} {self.name}".strip()


class ServerChange(models.Model):
    """A change in what a customer's server says it is — its reported name, MAC or IP — for the audit trail.

    Recorded by ``/api/server/commit`` when a report differs from the previous one; a new MAC
    may mean the licence moved to another machine.
    """

    class Field(models.TextChoices):
        NAME = "name", _("reported name")
        MAC = "mac", _("reported MAC")
        IP = "ip", _("reported IP")

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="server_changes", verbose_name=_("customer")
    )
    field = models.CharField(_("field"), max_length=8, choices=Field.choices)
    old_value = models.CharField(_("old value"), max_length=100, blank=True)
    new_value = models.CharField(_("new value"), max_length=100, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    sender_address = models.GenericIPAddressField(_("sender address"), null=True, blank=True)

    class Meta:
        verbose_name = _("server change")
        verbose_name_plural = _("server changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-changed_at"], name="serverchange_customer_time_idx"),
            # The console's list, newest first, and its date drill-down (zwadmin.lists).
            models.Index(fields=["-changed_at", "-id"], name="serverchange_time_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.field}: {self.old_value} → {self.new_value}"


class UsageDay(models.Model):
    """A customer's usage totals as of the last user batch of one day (China time), for charts over time.

    ``ImUser`` keeps only the latest figures; this keeps one snapshot per customer and day.
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="usage_days", verbose_name=_("customer")
    )
    day = models.DateField(_("day"))
    users = count_field(pgettext_lazy("number of", "users"))
    fmsgs = count_field(_("messages sent"))
    tmsgs = count_field(_("messages received"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        ordering = ["customer", "-day"]
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="usageday_customer_day_uniq")]

    def __str__(self):
        return f"{self.customer_id} {self.day}"

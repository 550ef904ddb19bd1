import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, Channel, ChannelKind, RuleKey
from alerts.services import alerts_evaluate, outbox_drain, rules_by_key
from customers.models import Customer
from customers.selectors import connection_info_refresh
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, ServerStatus, UnregisteredServer, UsageDay

DEMO_FIXTURE = settings.BASE_DIR / "fixtures" / "demo_customers.json"
EXPIRING_DEMO_CODE = "0571005"

HISTORY_DAYS = 90
REPORT_EVERY = datetime.timedelta(hours=3)
SILENT_FOR = datetime.timedelta(days=5)
MAC_CHANGED = datetime.timedelta(days=12)  # when the server with another MAC started reporting


@dataclass(frozen=True)
class DemoServer:
    """How one demo customer's server behaves: what the fleet dashboard should show about it."""

    users: int  # user count 90 days ago; it grows a little
    lan_ip: str
    sender: str
    last_report_ago: datetime.timedelta | None = datetime.timedelta(minutes=20)  # None: never reported
    other_mac: str = ""  # reports a MAC the customer is not licensed for, since MAC_CHANGED ago
    renewed_by_days: int = 0  # reports a licence expiry the registry has not caught up with


# By code (fixtures/demo_customers.json). Live unless said otherwise; the fixture itself has an expired licence
# (0513001, 0210042) and load_demo keeps one expiring within 30 days (EXPIRING_DEMO_CODE).
DEMO_SERVERS = {
    "0513001": DemoServer(users=178, lan_ip="192.168.0.7", sender="61.155.85.77"),
    "0512003": DemoServer(
        users=860, lan_ip="10.10.1.20", sender="58.210.98.34", last_report_ago=SILENT_FOR + datetime.timedelta(hours=3)
    ),
    "0250017": DemoServer(
        users=1240,
        lan_ip="172.16.3.18",
        sender="221.226.3.18",
        last_report_ago=datetime.timedelta(minutes=7),
        other_mac="3C:52:82:1D:09:B0",
    ),
    "0210042": DemoServer(
        users=96,
        lan_ip="192.168.1.10",
        sender="101.89.42.7",
        last_report_ago=datetime.timedelta(hours=2, minutes=40),
        renewed_by_days=365,
    ),
    EXPIRING_DEMO_CODE: DemoServer(
        users=320, lan_ip="192.168.8.2", sender="115.236.21.5", last_report_ago=datetime.timedelta(hours=1)
    ),
    "0100008": DemoServer(users=40, lan_ip="192.168.2.2", sender="123.57.10.8", last_report_ago=None),
    "0755021": DemoServer(users=450, lan_ip="10.0.0.5", sender="183.14.20.61", last_report_ago=SILENT_FOR),
}

DEMO_UNREGISTERED = {
    "code": "0531888",
    "name": "济南泉城热力",
    "mac": "B4:2E:99:5A:1C:07",
    "ip": "10.0.8.15",
    "count": 64,
    "sender_address": "112.230.14.9",
}

# The demo's e-mail channel: the licence and mismatch rules, sent by Django's mail backend (in `make run`, a
# debug run, the console backend: the messages are printed). The other rules' alerts are open in the console.
DEMO_CHANNEL = "运维邮件组"
DEMO_CHANNEL_RULES = [
    RuleKey.LICENCE_FIRST,
    RuleKey.LICENCE_SECOND,
    RuleKey.LICENCE_LAST,
    RuleKey.LICENCE_EXPIRED,
    RuleKey.MAC_MISMATCH,
    RuleKey.TIMEOUT_MISMATCH,
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
]
GROUPS = ["办公室", "技术部", "财务部", "市场部", "项目一组", "客服中心", "行政后勤"]


class Command(BaseCommand):
    help = (
        "Load the demo customers (fixtures/demo_customers.json) and 90 days of demo telemetry relative to now; "
        "safe to run again (the demo customers' telemetry is replaced)."
    )

    def handle(self, *args, **options):
        call_command("loaddata", DEMO_FIXTURE, verbosity=0)
        # A fixture's dates are fixed, "expiring within 30 days" is not: keep one demo licence about to lapse.
        Customer.objects.filter(code=EXPIRING_DEMO_CODE).update(
            timeout=timezone.localdate() + datetime.timedelta(days=14)
        )
        reports = load_demo_telemetry(now=timezone.now())
        connection_info_refresh(*Customer.objects.values_list("code", flat=True))
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {Customer.objects.count()} demo customers and {reports} demo server reports "
                f"over {HISTORY_DAYS} days."
            )
        )
        opened, sent = load_demo_alerts()
        self.stdout.write(
            self.style.SUCCESS(
                f"Opened {opened} demo alerts; the e-mail channel {DEMO_CHANNEL!r} sent {sent} messages "
                "(to the console in debug runs, see above)."
            )
        )


@transaction.atomic
def load_demo_telemetry(*, now: datetime.datetime) -> int:
    """Replace the demo customers' telemetry with a fresh history ending at ``now``; returns the reports made.

    Deterministic for a given ``now`` (each customer's own seeded random numbers), so running it twice
    leaves the same counts. A few silent servers, one never reported, one MAC and one licence expiry that
    differ from the registry (and the MAC change on record), and one unregistered server: every figure of
    the fleet dashboard has something, and every chart of a customer's page 90 days of data.
    """
    customers = {customer.code: customer for customer in Customer.objects.filter(code__in=DEMO_SERVERS)}
    for model in (ServerReport, ServerStatus, ServerChange, ImUser, ImGroup, UsageDay):
        model.objects.filter(customer__in=customers.values()).delete()
    UnregisteredServer.objects.filter(code=DEMO_UNREGISTERED["code"]).delete()

    reports, statuses, changes, users, groups, usage = [], [], [], [], [], []
    for code, customer in sorted(customers.items()):
        server = DEMO_SERVERS[code]
        if server.last_report_ago is None:
            continue
        rng = random.Random(f"zwadmin-demo-{code}")
        history = _server_history(customer, server, rng, now)
        reports.extend(history)
        latest = history[-1]
        statuses.append(
            ServerStatus(
                customer=customer,
                **{field: getattr(latest, field) for field in _SERVER_FIELDS},
                first_reported_at=history[0].reported_at,
                reports=len(history),
            )
        )
        customer_users = _users(customer, rng, latest.count, latest.reported_at)
        users.extend(customer_users)
        groups.extend(_groups(customer, rng, latest.reported_at))
        usage.extend(_usage_days(customer, customer_users, latest.reported_at, now))
        if server.other_mac:
            changes.append(
                ServerChange(
                    customer=customer,
                    field=ServerChange.Field.MAC,
                    old_value=customer.mac,
                    new_value=server.other_mac,
                    changed_at=_first_report_after(history, now - MAC_CHANGED),
                    sender_address=server.sender,
                )
            )

    ServerReport.objects.bulk_create(reports, batch_size=2000)
    ServerStatus.objects.bulk_create(statuses)
    ImUser.objects.bulk_create(users, batch_size=2000)
    ImGroup.objects.bulk_create(groups)
    UsageDay.objects.bulk_create(usage, batch_size=2000)
    ServerChange.objects.bulk_create(changes)
    UnregisteredServer.objects.create(
        **DEMO_UNREGISTERED,
        first_seen_at=now - datetime.timedelta(days=12),
        last_seen_at=now - datetime.timedelta(hours=2),
        reports=12 * 8,
    )
    return len(reports)


def load_demo_alerts() -> tuple[int, int]:
    """The demo e-mail channel, and the demo customers' alerts opened afresh (run_alerts once): their messages
    go out through the mail backend. Returns (alerts opened, messages sent)."""
    rules = rules_by_key()
    channel, _created = Channel.objects.update_or_create(
        name=DEMO_CHANNEL,
        defaults={"kind": ChannelKind.EMAIL, "enabled": True, "recipients": "ops@example.com"},
    )
    channel.rules.set([rules[key] for key in DEMO_CHANNEL_RULES])
    Alert.objects.filter(code__in=[*DEMO_SERVERS, DEMO_UNREGISTERED["code"]]).delete()
    evaluation = alerts_evaluate()
    return evaluation.opened, outbox_drain().sent


_SERVER_FIELDS = ("name", "mac", "ip", "timeout", "count", "updatetimes", "reported_at", "sender_address")


def _server_history(customer, server: DemoServer, rng: random.Random, now) -> list[ServerReport]:
    """A report every ``REPORT_EVERY`` from ``HISTORY_DAYS`` ago until the server's last report."""
    last = now - server.last_report_ago
    first = now - datetime.timedelta(days=HISTORY_DAYS)
    steps = int((last - first) / REPORT_EVERY)
    timeout = customer.timeout
    if timeout and server.renewed_by_days:
        timeout += datetime.timedelta(days=server.renewed_by_days)
    users, updates = server.users, rng.randint(200, 2000)
    history = []
    for step in range(steps, -1, -1):
        if rng.random() < 0.03 and step:  # now and then a report is lost on the way
            continue
        users = max(users + rng.choice((0,) * 12 + (1, 1, -1)), 1)
        updates += rng.randint(0, 6)
        at = last - step * REPORT_EVERY
        history.append(
            ServerReport(
                customer=customer,
                name=f"{customer.name}IM服务器",
                mac=server.other_mac if server.other_mac and at >= now - MAC_CHANGED else customer.mac,
                ip=server.lan_ip,
                timeout=timeout,
                count=users,
                updatetimes=updates,
                reported_at=at,
                sender_address=server.sender,
            )
        )
    return history


def _first_report_after(history: list[ServerReport], moment) -> datetime.datetime:
    return next(report.reported_at for report in history if report.reported_at >= moment)


def _usage_days(customer, users: list[ImUser], last_reported_at, now) -> list[UsageDay]:
    """A usage snapshot for each day of the history, ending with the users' current totals (what ingest keeps
    after each user batch): the totals grow over the 90 days."""
    last_day = timezone.localdate(last_reported_at)
    fmsgs, tmsgs = sum(user.fmsgs for user in users), sum(user.tmsgs for user in users)
    days = []
    for days_ago in range(HISTORY_DAYS - (timezone.localdate(now) - last_day).days):
        share = 1 - days_ago / (HISTORY_DAYS * 1.5)  # the oldest day had about a third of today's messages
        days.append(
            UsageDay(
                customer=customer,
                day=last_day - datetime.timedelta(days=days_ago),
                users=len(users),
                fmsgs=round(fmsgs * share),
                tmsgs=round(tmsgs * share),
                updated_at=last_reported_at - datetime.timedelta(days=days_ago),
            )
        )
    return days


def _users(customer, rng: random.Random, count: int, reported_at) -> list[ImUser]:
    """A sample of the customer's users (at most 40): Chinese names, usage figures in proportion."""
    users = []
    for number in range(1, min(count, 40) + 1):
        nickname = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        pctimes, andtimes, iostimes = (rng.randint(0, 200_000) for _ in range(3))
        users.append(
            ImUser(
                customer=customer,
                uuid=f"{customer.code}-u{number:04d}",
                nickname=nickname,
                onlinetime=pctimes + andtimes + iostimes,
                pctimes=pctimes,
                andtimes=andtimes,
                iostimes=iostimes,
                fmsgs=rng.randint(0, 5_000),
                tmsgs=rng.randint(0, 8_000),
                first_reported_at=reported_at - datetime.timedelta(days=HISTORY_DAYS),
                last_reported_at=reported_at,
            )
        )
    return users


def _groups(customer, rng: random.Random, reported_at) -> list[ImGroup]:
    groups = []
    for number, name in enumerate(rng.sample(GROUPS, 4), start=1):
        creator = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        groups.append(
            ImGroup(
                customer=customer,
                gid=f"{customer.code}-g{number:03d}",
                name=name,
                createrid=f"{customer.code}-u{number:04d}",
                creatername=creator,
                ucount=rng.randint(3, 60),
                msgcount=rng.randint(10, 20_000),
                ctime=reported_at - datetime.timedelta(days=rng.randint(100, 900)),
                fcount=rng.randint(0, 300),
                ncount=rng.randint(0, 40),
                first_reported_at=reported_at - datetime.timedelta(days=HISTORY_DAYS),
                last_reported_at=reported_at,
            )
        )
    return groups

"""Play a fleet of deployed IM servers against a running zwadmin: ``manage.py simulate_fleet``.

Each simulated server reports as the vendor's interface document says (docs/protocol.md, "Server interface"):
its status to ``/api/server/commit``, its users to ``/api/user/commit`` and its groups to
``/api/group/commit``, every ``--interval`` seconds, with figures that grow from one report to the next.
Like real servers, some send their parameters in the query string (GET) and some in a form body (POST);
a batch too long for a query string always goes by POST.

    manage.py simulate_fleet --url http://127.0.0.1:8000 --servers 20 --users 500 --register
    manage.py simulate_fleet --url http://127.0.0.1:8000 --servers 200 --users 2000 --interval 60 --duration 3600

Without ``--duration`` every server reports once (a demo-data generator: ``--register`` first creates the
simulated customers in the database this project is configured with); with it, the fleet keeps reporting
until the time is up (a soak test). At the end it prints what it sent and what was refused, per endpoint.
It talks HTTP only, to the one ``--url`` it is given, and stops by itself.
"""

import datetime
import hashlib
import heapq
import http.client
import json
import random
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

# A query string longer than this goes by POST: the contract guarantees 64 KB of request line (docs/protocol.md).
MAX_QUERY_BYTES = 60_000
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
ENDPOINTS = ("server", "user", "group")


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def non_negative_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(value)
    return number


@dataclass
class EndpointStats:
    """What one endpoint was sent and answered, summed over the fleet."""

    requests: int = 0
    methods: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: Counter = field(default_factory=Counter)  # transport failures: no HTTP answer at all
    seconds: list[float] = field(default_factory=list)


class SimulatedServer:
    """One customer's IM server: its identity, its users and groups, and their growing figures."""

    def __init__(self, code: str, *, users: int, groups: int, seed: int):
        self.code = code
        self.rng = random.Random(f"{seed}-{code}")
        digest = hashlib.blake2b(code.encode(), digest_size=6).hexdigest().upper()
        self.name = f"模拟服务器 {code}"
        self.mac = ":".join(digest[i : i + 2] for i in range(0, 12, 2))
        self.ip = f"10.{int(digest[:2], 16)}.{int(digest[2:4], 16)}.{1 + int(digest[4:6], 16) % 254}"
        self.timeout = (timezone.localdate() + datetime.timedelta(days=365)).isoformat()
        self.updatetimes = 0
        self.reports = 0
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"zwadmin-simulated/{code}")
        self.users = [
            {
                "code": code,
                "uuid": str(uuid.uuid5(namespace, f"user-{index}")),
                "nickname": self.rng.choice(SURNAMES) + self.rng.choice(GIVEN) + self.rng.choice(("", *GIVEN)),
                **dict.fromkeys(("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs"), 0),
            }
            for index in range(users)
        ]
        self.groups = [
            {
                "code": code,
                "gid": str(uuid.uuid5(namespace, f"group-{index}")),
                "name": f"{self.rng.choice(('项目', '部门', '客服', '研发', '销售'))}群{index}",
                "createrid": self.users[index % users]["uuid"] if users else "",
                "creatername": self.users[index % users]["nickname"] if users else "",
                "ucount": 0,
                "msgcount": 0,
                "ctime": (timezone.localdate() - datetime.timedelta(days=self.rng.randrange(1, 1000))).isoformat(),
                "fcount": 0,
                "ncount": 0,
            }
            for index in range(groups)
        ]

    def advance(self) -> None:
        """Time passes on the server: its users go online and send messages, its groups grow."""
        rng = self.rng
        self.reports += 1
        self.updatetimes += rng.randrange(0, 5)
        for user in self.users:
            online = rng.randrange(0, 600)
            user["onlinetime"] += online
            user[rng.choice(("andtimes", "pctimes", "iostimes"))] += online
            user["fmsgs"] += rng.randrange(0, 40)
            user["tmsgs"] += rng.randrange(0, 60)
        for group in self.groups:
            group["ucount"] = max(group["ucount"], rng.randrange(2, 200))
            group["msgcount"] += rng.randrange(0, 100)
            group["fcount"] += rng.randrange(0, 3)
            group["ncount"] += rng.randrange(0, 2)

    def status(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "mac": self.mac,
            "ip": self.ip,
            "timeout": self.timeout,
            "count": len(self.users),
            "updatetimes": self.updatetimes,
        }


class Fleet:
    """Sends the servers' reports and keeps the tally."""

    def __init__(self, base_url: str, *, batch_size: int, timeout: float, seed: int):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CommandError(f"--url must be http(s)://host[:port][/prefix], not {base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.batch_size = batch_size
        self.timeout = timeout
        self.rng = random.Random(seed)
        self.stats = {name: EndpointStats() for name in ENDPOINTS}
        self.lock = threading.Lock()

    def _request(self, method: str, path: str, query: str, body: bytes | None) -> tuple[int, bytes]:
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = connection_class(self.host, self.port, timeout=self.timeout)
        try:
            target = f"{self.prefix}{path}" + (f"?{query}" if query else "")
            headers = {"User-Agent": "zwadmin-simulate-fleet"}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def send(self, endpoint: str, parameters: dict, records: int = 0, *, use_get: bool) -> None:
        """One request; ``use_get`` asks for the query string, which a long batch overrides with a POST."""
        encoded = urllib.parse.urlencode(parameters)
        method = "GET" if use_get and len(encoded) <= MAX_QUERY_BYTES else "POST"
        query, body = (encoded, None) if method == "GET" else ("", encoded.encode())
        start = time.perf_counter()
        try:
            status, answer = self._request(method, f"/api/{endpoint}/commit", query, body)
        except (OSError, http.client.HTTPException) as error:
            with self.lock:
                stats = self.stats[endpoint]
                stats.requests += 1
                stats.methods[method] += 1
                stats.records += records
                stats.errors[type(error).__name__] += 1
            return
        elapsed = time.perf_counter() - start
        accepted = rejected = 0
        if records:
            try:
                document = json.loads(answer)
            except ValueError:
                document = {}
            if status == 200 and isinstance(document, dict):
                accepted = int(document.get("accepted", 0))
                rejected = len(document.get("rejected", ())) + int(document.get("rejected_unlisted", 0))
            else:
                rejected = records
        with self.lock:
            stats = self.stats[endpoint]
            stats.requests += 1
            stats.methods[method] += 1
            stats.statuses[status] += 1
            stats.records += records
            stats.accepted += accepted
            stats.rejected += rejected
            stats.seconds.append(elapsed)

    def report(self, server: SimulatedServer) -> None:
        """One round of a server: its status, then its users and its groups in batches."""
        server.advance()
        with self.lock:
            use_get = [self.rng.random() < 0.5 for _ in range(3)]
        self.send("server", server.status(), use_get=use_get[0])
        for endpoint, items, get in (("user", server.users, use_get[1]), ("group", server.groups, use_get[2])):
            for start in range(0, len(items), self.batch_size):
                batch = items[start : start + self.batch_size]
                data = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))
                self.send(endpoint, {"data": data}, len(batch), use_get=get)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Command(BaseCommand):
    help = "Play N deployed IM servers reporting status, users and groups to a running zwadmin (demo data, soak test)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the instance (default: %(default)s)")
        parser.add_argument("--servers", type=positive_int, default=10, help="servers to play (default: %(default)s)")
        parser.add_argument("--users", type=int, default=100, help="users per server (default: %(default)s)")
        parser.add_argument("--groups", type=int, default=None, help="groups per server (default: users / 10)")
        parser.add_argument(
            "--interval", type=non_negative_float, default=60.0, help="seconds between a server's reports"
        )
        parser.add_argument(
            "--duration",
            type=non_negative_float,
            default=0.0,
            help="keep reporting for this many seconds (soak test); 0, the default: every server reports once",
        )
        parser.add_argument(
            "--codes", default="", help="comma-separated customer codes to play (default: --code-prefix + number)"
        )
        parser.add_argument("--code-prefix", default="0599", help="prefix of the generated codes (default: 0599)")
        parser.add_argument(
            "--unknown", type=int, default=0, help="also play this many servers whose codes are not registered"
        )
        parser.add_argument(
            "--register",
            action="store_true",
            help="first create the simulated customers missing from this project's database (demo data)",
        )
        parser.add_argument("--batch-size", type=positive_int, default=2000, help="records per user/group request")
        parser.add_argument("--concurrency", type=positive_int, default=4, help="servers reporting at the same time")
        parser.add_argument("--timeout", type=non_negative_float, default=120.0, help="seconds to wait for an answer")
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed plays the same fleet")

    def handle(self, *args, **options):
        codes = self._codes(options)
        unknown_codes = [f"09{index:05d}" for index in range(options["unknown"])]
        if options["register"]:
            self._register(codes)
        users = max(options["users"], 0)
        groups = options["groups"] if options["groups"] is not None else users // 10
        servers = [
            SimulatedServer(code, users=users, groups=max(groups, 0), seed=options["seed"])
            for code in codes + unknown_codes
        ]
        fleet = Fleet(
            options["url"], batch_size=options["batch_size"], timeout=options["timeout"], seed=options["seed"]
        )
        duration, interval = options["duration"], options["interval"]
        self.stdout.write(
            f"Playing {len(servers)} servers ({len(unknown_codes)} unregistered), {users} users and {groups} groups "
            f"each, against {options['url']}"
            + (f", every {interval:g} s for {duration:g} s" if duration else ", one report each")
        )
        started = time.monotonic()
        try:
            self._play(fleet, servers, duration=duration, interval=interval, concurrency=options["concurrency"])
        except KeyboardInterrupt:
            self.stdout.write("Interrupted.")
        self._summary(fleet, servers, time.monotonic() - started)

    def _codes(self, options) -> list[str]:
        if options["codes"]:
            codes = [code.strip() for code in options["codes"].split(",") if code.strip()]
        else:
            prefix = options["code_prefix"]
            width = max(7 - len(prefix), len(str(options["servers"] - 1)))
            codes = [f"{prefix}{index:0{width}d}" for index in range(options["servers"])]
        bad = [code for code in codes if not code.isdigit() or not 4 <= len(code) <= 12]
        if bad:
            raise CommandError(f"customer codes are 4 to 12 digits: {', '.join(bad[:5])}")
        return codes

    def _register(self, codes: list[str]) -> None:
        from customers.models import Customer
        from customers.services import customer_create

        existing = set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))
        for code in codes:
            if code not in existing:
                server = SimulatedServer(code, users=0, groups=0, seed=0)
                customer_create(
                    code=code,
                    name=f"模拟客户 {code}",
                    mac=server.mac,
                    tcphost=server.ip,
                    tcpport=10003,
                    webhost=server.ip,
                    webport=10001,
                    filehost=server.ip,
                    fileport=10004,
                    timeout=server.timeout,
                )
        self.stdout.write(f"Registered {len(set(codes) - existing)} customers ({len(existing)} already there).")

    def _play(self, fleet: Fleet, servers: list, *, duration: float, interval: float, concurrency: int) -> None:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency) as executor:
            if not duration:
                for future in [executor.submit(fleet.report, server) for server in servers]:
                    future.result()
                return
            deadline = start + duration
            # Spread the servers' first reports over one interval, as a real fleet's clocks are.
            due = [(start + interval * index / len(servers), index) for index in range(len(servers))]
            heapq.heapify(due)
            pending = set()
            while due and due[0][0] < deadline:
                when, index = heapq.heappop(due)
                time.sleep(max(0.0, when - time.monotonic()))
                pending = {future for future in pending if not future.done()}
                if len(pending) >= concurrency * 4:  # the instance cannot keep up: wait rather than pile up
                    next(iter(pending)).result()
                pending.add(executor.submit(fleet.report, servers[index]))
                if interval:
                    heapq.heappush(due, (when + interval, index))
            for future in pending:
                future.result()

    def _summary(self, fleet: Fleet, servers: list, elapsed: float) -> None:
        # Also kept as ``self.summary`` for a caller that runs the command through call_command (make bench).
        self.summary = {"seconds": elapsed, "reports": sum(s.reports for s in servers), "endpoints": {}}
        self.stdout.write(f"Done in {elapsed:.1f} s, {self.summary['reports']} server reports.")
        self.stdout.write(
            f"{'endpoint':<20}{'requests':>9}{'GET':>7}{'POST':>7}{'records':>10}{'accepted':>10}{'refused':>9}"
            f"{'p50 ms':>9}{'p99 ms':>9}  answers"
        )
        refused_any = False
        for name, stats in fleet.stats.items():
            refused = stats.rejected if name != "server" else sum(n for s, n in stats.statuses.items() if s != 200)
            refused_any = refused_any or bool(refused or stats.errors)
            answers = ", ".join(f"{status}×{count}" for status, count in sorted(stats.statuses.items()))
            if stats.errors:
                answers += "; no answer: " + ", ".join(f"{e}×{n}" for e, n in stats.errors.items())
            p50 = _percentile(stats.seconds, 0.5) * 1000 if stats.seconds else None
            p99 = _percentile(stats.seconds, 0.99) * 1000 if stats.seconds else None
            records = stats.records if name != "server" else stats.requests
            accepted = stats.accepted if name != "server" else stats.statuses.get(200, 0)
            self.summary["endpoints"][name] = {
                "requests": stats.requests,
                "records": records,
                "accepted": accepted,
                "refused": refused,
                "errors": sum(stats.errors.values()),
                "p50_ms": p50,
                "p99_ms": p99,
            }
            self.stdout.write(
                f"{'/api/' + name + '/commit':<20}{stats.requests:>9}{stats.methods['GET']:>7}"
                f"{stats.methods['POST']:>7}{records:>10}{accepted:>10}{refused:>9}"
                f"{'-' if p50 is None else f'{p50:.0f}':>9}{'-' if p99 is None else f'{p99:.0f}':>9}  {answers}"
            )
        if refused_any:
            self.stdout.write(
                "Refused: records of unregistered or removed codes, bad values, or requests with no answer (see above)."
            )

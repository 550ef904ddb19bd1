"""zwadmin settings, read from the environment: docs/configuration.md lists every variable.

DJANGO_SECRET_KEY is required unless DJANGO_DEBUG=1 (development only: `make run` sets it). Otherwise the
defaults are the production ones, with an SQLite file at the project root (WAL mode, writers queue) and the
cache in it until DATABASE_URL and REDIS_URL say otherwise: a single-machine deployment of several workers.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import quote, unquote

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# Each variable is read once, its name written out at the call: zwadmin/tests/test_configuration.py finds the
# reads in this file and checks that docs/configuration.md documents exactly those.
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Not read through django-environ: it takes a value that begins with "$" for the name of another variable to
# read instead, which 0.14 cannot turn off, and one key in 50 of Django's get_random_secret_key() begins so.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (for development: DJANGO_DEBUG=1)."
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - debug runs only

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", cast=str.strip, default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # the console's "3 小时前" relative times
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
# The console's theme (django-unfold) and its integrations: before django.contrib.admin, whose templates they
# override (docs/operations.md "The console").
THEME_APPS = [
    "unfold",
    "unfold.contrib.filters",  # date-range, autocomplete and dropdown list filters
    "unfold.contrib.import_export",  # the export pages in the theme
    "unfold.contrib.simple_history",  # the history pages in the theme
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "simple_history",  # the customers' audit trail: who changed what, old → new
    "import_export",  # CSV and Excel export of the console's lists (export only)
    "drf_spectacular",  # the OpenAPI 3 schema, /api/schema/
    "drf_spectacular_sidecar",  # Swagger UI's files, served by whitenoise: /api/docs/ works offline
]
LOCAL_APPS = [
    "zwadmin",
    "customers",
    "telemetry",
    "alerts",
]
# The console app first: its templates (the admin index with the fleet dashboard) override the theme's and the
# admin's own; the theme before the admin.
INSTALLED_APPS = ["console", *THEME_APPS, *DJANGO_APPS, *THIRD_PARTY_APPS, *LOCAL_APPS]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The machine paths (the client lookup, the commits, /healthz) are answered here, with the checks they need
    # (allowed hosts, language) and none of the console's middleware below (zwadmin/machine.py). Middleware that
    # the machine paths need goes above this line.
    "zwadmin.machine.MachineViewMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Audit trail: records the console's user with each change (the API's services are told who, too).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy (django-csp): the console's pages load only what this server serves (below).
    "csp.middleware.CSPMiddleware",
    # Last: turns a lockout noted by the authentication backend into a 429; one getattr per request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zwadmin.urls"
WSGI_APPLICATION = "zwadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://…) in production and CI; an SQLite file at the project root otherwise (its
# path quoted: django-environ reads a "+" in the URL as a space).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{quote(str(BASE_DIR / 'db.sqlite3'))}")}
DATABASES["default"].update(
    CONN_MAX_AGE=env.int("DJANGO_CONN_MAX_AGE", default=60),
    CONN_HEALTH_CHECKS=True,
    # dj-database-url's spelling of a Unix socket, postgres://%2Frun%2Fpostgresql/zwadmin, which django-environ
    # leaves quoted.
    HOST=unquote(DATABASES["default"].get("HOST", "")),
)
# A database that stops answering must fail a request in seconds, not hang every worker (a connect_timeout in
# DATABASE_URL wins).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# The embedded SQLite file serves several worker processes (docs/deployment.md): writers queue for the one write
# lock instead of failing with "database is locked". WAL: readers never wait for a writer, nor a writer for
# readers; synchronous=NORMAL is safe in WAL mode (a power cut may lose the last commits, never corrupt the file).
# IMMEDIATE: every transaction takes the write lock when it begins, so a transaction that reads and then writes
# cannot fail half-way because another wrote in between (SQLite's deferred default would); "timeout" is how long
# a writer waits for the lock (seconds) before the request fails.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 30)
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every worker and node). Without it, a table in the database
# (Django's DatabaseCache, created after every `migrate`: zwadmin/apps.py): shared by every process like the
# database itself, never a per-process memory (check --deploy warns of one, zwadmin.W002). The URL is read as a
# string, not with env.cache: that would choose Django's backend instead of ours and move the URL's query into
# OPTIONS, where ours hands the whole URL to redis-py as Django's does.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, reusing one redis-py client instead of building one per call (zwadmin/cache.py).
            "BACKEND": "zwadmin.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("DJANGO_CACHE_PREFIX", default="zwadmin"),
            # Each process keeps copies of the lookup answers and of the lookup throttle's refusals, dropped
            # as writes are announced through Redis: a lookup that hits asks Redis nothing (zwadmin/cache.py).
            "NEAR_CACHE": {"PREFIXES": ["customer-info:", "throttle_lookup_unknown_"], "MAX_AGE": 30},
            # A Redis that stops answering must fail a request in seconds, not hang every worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "zwadmin_cache"}}
# Whether the client lookup's answers are kept in the cache (customers/lookup_cache.py). Only in Redis: without it,
# the lookup reads the database (one indexed query), which is what a database cache would do too.
LOOKUP_CACHE = bool(REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# One date form (2025-12-31) and one date-time form (2025-12-31 14:05) in both languages, thousands separators
# in both (622,111): zwadmin/formats/.
FORMAT_MODULE_PATH = ["zwadmin.formats"]
USE_THOUSAND_SEPARATOR = True
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The behind-proxy client address: how many proxies append to X-Forwarded-For. Unset or empty: None, and the
# header is not believed (check --deploy warns, zwadmin.W001).
NUM_PROXIES = env.int("DJANGO_NUM_PROXIES", default=None)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["zwadmin.drf.StaffModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": [
        "zwadmin.drf.UTF8JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "zwadmin.drf.JSONParser",  # measured before it is parsed: never a RecursionError
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "zwadmin.drf.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "zwadmin.exception_handlers.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        # Distinct unknown codes one client address may look up before it is refused.
        "lookup_unknown": env.str("ZWADMIN_LOOKUP_UNKNOWN_RATE", default="30/hour"),
        # Commits per customer code, per endpoint (server, user, group), never per address. Empty: no limit.
        "commit": env.str("ZWADMIN_COMMIT_RATE", default="3600/hour") or None,
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS answers without the views' docstrings, which are notes for developers (zwadmin/drf.py).
    "DEFAULT_METADATA_CLASS": "zwadmin.drf.Metadata",
}

# The OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/): public, like the vendor document they
# restate; zwadmin/schema.py describes the machine endpoints, which parse their raw requests themselves.
SPECTACULAR_SETTINGS = {
    "TITLE": "zwadmin API",
    "DESCRIPTION": "The vendor interface document's endpoints (docs/protocol.md): the client lookup, the servers' "
    "commits, and the management interface for staff.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # the same document for everyone: cached once per process and language
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["console.schema.preprocess"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "console.schema.postprocess"],
}

# How long a client lookup stays cached; edits invalidate it at once, this only bounds memory.
CUSTOMER_INFO_CACHE_SECONDS = env.int("ZWADMIN_CUSTOMER_INFO_CACHE_SECONDS", default=86400)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},  # stderr
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The production server writes one JSON line per request on stdout (zwadmin/access_log.py), so Django's
        # own "Not Found: /api/customer/info" warnings would only repeat it on the hottest path; keep its errors.
        "django.request": {"level": "ERROR"},
    },
}

# ---------------------------------------------------------------------------
# Production and security (docs/deployment.md)
# ---------------------------------------------------------------------------
# Every default below is the production one; DJANGO_DEBUG=1 (development only) relaxes those that need HTTPS.
# `manage.py check --deploy` is clean once DJANGO_SECRET_KEY (50+ random characters), DJANGO_ALLOWED_HOSTS
# and DJANGO_NUM_PROXIES are set.
#
# HTTPS redirect for people, never for machines. Deployed IM servers and clients call fixed http:// URLs and
# cannot change: a redirect loses a POST body (docs/protocol.md, "General"), and old clients do not follow one. So
# the console redirects to HTTPS and the machine paths are exempt: the lookup and commits (api/), the staff
# scripts' management interface (customer/, user/list, group/list) and load balancers' health probes.
# On an exempt path over plain HTTP no session is exposed (session and CSRF cookies are Secure: browsers
# never send them over HTTP), but a script's token is: staff scripts must use https://.
# Unset or empty, DJANGO_SECURE_SSL_REDIRECT and DJANGO_SECURE_COOKIES are on unless debug: django-environ alone
# reads "" as off, and a blank line in an environment file must not turn HTTPS off.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=None)
if SECURE_SSL_REDIRECT is None:
    SECURE_SSL_REDIRECT = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^api/", r"^customer/", r"^user/list", r"^group/list", r"^healthz"]
# nginx terminates TLS and says so in X-Forwarded-Proto (deploy/nginx/zwadmin.conf), overwriting whatever the client
# sent. gunicorn must therefore be reachable from nginx only, or a client could claim HTTPS itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=None)
if SESSION_COOKIE_SECURE is None:
    SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", cast=str.strip, default=[])
# HSTS for the console's host name (browsers only; IM clients ignore it). One year once it is known to work.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# includeSubDomains and preload reach beyond this console (every host of the domain, for months, in every
# browser): a decision for whoever owns the domain, off unless asked for. Their check --deploy warnings
# are silenced while they are off, because leaving them off is that decision.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]

# Admin login lockout (django-axes): only the console's login form is watched (the lookup and the commits
# never authenticate), failures are counted in the database, so every node sees them. A username is locked
# from one client address after ZWADMIN_LOGIN_FAILURE_LIMIT failures, for ZWADMIN_LOGIN_LOCKOUT_MINUTES;
# per (username, address), so an attacker cannot lock a colleague out from elsewhere. Unlock early with
# `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("ZWADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("ZWADMIN_LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client address as NUM_PROXIES defines it; X-Forwarded-For is not trusted when NUM_PROXIES is unset.
AXES_CLIENT_IP_CALLABLE = "zwadmin.client_address.client_ip"

# Report history older than this is pruned by `manage.py prune_reports` (run it daily).
TELEMETRY_REPORT_RETENTION_DAYS = env.int("ZWADMIN_REPORT_RETENTION_DAYS", default=400)

# ---------------------------------------------------------------------------
# Fleet dashboard (admin index, customer changelist)
# ---------------------------------------------------------------------------
# A customer whose server's last report is older than this is "silent" (reported within it: "live").
TELEMETRY_SILENT_AFTER_HOURS = env.int("ZWADMIN_SILENT_AFTER_HOURS", default=48)

# ---------------------------------------------------------------------------
# Telemetry lists (/user/list, /group/list)
# ---------------------------------------------------------------------------
# A user or group whose server has not reported it for this many days is "stale" (the lists' stale filter).
TELEMETRY_STALE_DAYS = env.int("ZWADMIN_STALE_DAYS", default=7)

# ---------------------------------------------------------------------------
# Telemetry ingestion (/api/server|user|group/commit)
# ---------------------------------------------------------------------------
# A batch of 50,000 users is about 9 MB of JSON (13 MB form-encoded): bodies up to this size are read,
# larger ones get a 413 before a byte is read. Django's own cap must let them through; the commit
# endpoints parse the raw body themselves, so DATA_UPLOAD_MAX_NUMBER_FIELDS does not apply to them.
# nginx's client_max_body_size (deploy/nginx) must allow as much; gunicorn.conf.py lets 64 KB GET
# query strings through.
TELEMETRY_MAX_BODY_BYTES = env.int("ZWADMIN_TELEMETRY_MAX_BODY_BYTES", default=32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TELEMETRY_MAX_BODY_BYTES
# Records one user or group batch may hold (a larger one is a 413, nothing stored); a JSON text is measured
# against it before it is parsed (telemetry/ingest_parsing.py), so what a body can cost is bounded by it.
TELEMETRY_MAX_RECORDS = env.int("ZWADMIN_TELEMETRY_MAX_RECORDS", default=50_000)
# How many unregistered codes are remembered; beyond it new codes are only logged.
TELEMETRY_MAX_UNREGISTERED = env.int("ZWADMIN_TELEMETRY_MAX_UNREGISTERED", default=10000)


# ---------------------------------------------------------------------------
# Alerts (docs/alerts.md): messages to e-mail and the group robots, sent by `manage.py run_alerts`
# ---------------------------------------------------------------------------
# The console as operators reach it, for the links in messages: https://console.example.com (no trailing
# slash). Unset in production, messages carry paths only and `check --deploy` warns (alerts.W001).
PUBLIC_URL = env.str("ZWADMIN_PUBLIC_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
# The mail server as a URL (django-environ): smtp://user:password@mail.example.com:25,
# smtp+tls://…:587 (STARTTLS), smtp+ssl://…:465; consolemail:// prints messages (the default in debug runs).
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="zwadmin@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds one attempt to send a message (SMTP or a robot's webhook) may take before it counts as timed out.
ALERTS_SEND_TIMEOUT_SECONDS = env.int("ZWADMIN_ALERTS_SEND_TIMEOUT_SECONDS", default=10)

# ---------------------------------------------------------------------------
# Audit trail (django-simple-history) and exports (django-import-export)
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# The console: theme (django-unfold) and Content-Security-Policy (django-csp)
# ---------------------------------------------------------------------------
# The sidebar groups the pages by the operators' tasks (console/navigation.py); the console's own strings and
# the theme's are in our catalog (django-unfold ships no Chinese).
UNFOLD = {
    "SITE_TITLE": _("zwadmin"),
    "SITE_HEADER": _("Zhongwei customer console"),
    "SITE_SYMBOL": "hub",
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": "console.navigation.favicon"}],
    "SITE_URL": None,  # no "view site": the console is the site
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_HISTORY": True,
    "BORDER_RADIUS": "6px",
    "COLORS": {
        "primary": {
            "50": "#eff6fb",
            "100": "#dcebf5",
            "200": "#bcd8ec",
            "300": "#8dbddf",
            "400": "#5a9ccd",
            "500": "#3a80b8",
            "600": "#2f6f9f",  # the charts' line colour (zwadmin/charts.py)
            "700": "#285a82",
            "800": "#254c6b",
            "900": "#22405a",
            "950": "#17293b",
        },
    },
    "STYLES": ["console.navigation.console_stylesheet"],
    "SIDEBAR": {"show_search": False, "show_all_applications": False, "navigation": "console.navigation.sidebar"},
}
# The console loads scripts, styles, fonts and images from this server only; no page may frame it, no form
# post elsewhere. 'unsafe-eval': the theme's Alpine.js evaluates its x-data attributes with Function() (its CSP
# build would drop that, but the theme does not ship it). Inline <script> is refused (the admin has none; its
# constants are JSON data blocks); inline styles are allowed (the theme's colour variables, the SVG charts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# The history is a record, not an editor: its pages show who changed what (old → new), with no revert button.
SIMPLE_HISTORY_REVERT_DISABLED = True
# Exporting a list is reading it: whoever may view a model may export it. Nothing is ever imported.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

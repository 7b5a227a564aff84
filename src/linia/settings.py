"""Django settings, read from environment variables with safe defaults (12-factor).

LINIA_HOME      data directory (default ./var): SQLite database, media, huey queue, secret key
DATABASE_URL    default: SQLite in WAL mode under LINIA_HOME; postgres://... for production
REDIS_URL       optional: channel layer, cache and task queue move to Redis when set
LINIA_REDIS_PREFIX  optional: prefix of this installation's Redis keys (`linia demo` sets its own)
LINIA_REDIS_MAX_CONNECTIONS  optional: connections per Redis pool of the `core` channel layer (default 2000)
LINIA_REDIS_LAYER  optional: "pubsub" (default) or "core", which channels-redis layer carries websocket pushes
LINIA_DEMO_REDIS    `linia demo` without REDIS_URL: the Redis to use if it answers (default
                redis://127.0.0.1:6379/0; "off" keeps the demo in memory)
LINIA_SECRET_KEY generated once and kept in LINIA_HOME when absent
LINIA_DEBUG     "1" for Django debug pages (never in production)
LINIA_API_TOKEN_CACHE_SECONDS  how long a server remembers a checked API token (default 5; 0 = off)
LINIA_VOICE_LINE_CACHE_SECONDS  how long a server remembers a line looked up by a CTI event (default 5; 0 = off)
LINIA_DB_CONN_MAX_AGE  seconds a database connection is kept (default 0; `linia serve` uses 600)
LINIA_DB_PREPARE       0: PostgreSQL without server-side binding and prepared statements (default 1)
LINIA_HTTP_THREADS  threads serving HTTP requests in `linia serve` (default 16 on PostgreSQL, 1 on SQLite)
LINIA_PUBLIC_URL  how customers reach this installation, for links in emails (default http://localhost:8000)
LINIA_CUSTOMER_LINK_DAYS  days a customer's private ticket link stays valid (default 90)
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
LINIA_HOME = Path(os.environ.get("LINIA_HOME", "./var")).resolve()
LINIA_HOME.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("LINIA_SECRET_KEY")
    if key:
        return key
    path = LINIA_HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("LINIA_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("LINIA_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LINIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "huey.contrib.djhuey",
    "linia.core",
    "linia.directory",
    "linia.tickets",
    "linia.routing",
    "linia.api",
    "ninja",  # serves /api/v1/docs with its bundled Swagger UI files instead of a CDN
    "linia.desk",
    "linia.intake.voice",
    "linia.dispatch",
    "linia.intake.email",
    "linia.workforce",  # `linia simulate` (no models)
    "linia.intake.chat",
    "linia.intake.webform",
    "linia.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linia.core.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "linia.urls"
ASGI_APPLICATION = "linia.asgi.application"
WSGI_APPLICATION = "linia.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:tickets"  # store and client staff: the portal (linia.portal.views.LoginView)
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linia.core.context_processors.linia",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{LINIA_HOME / 'linia.sqlite3'}"
# Database connections are closed after each request unless LINIA_DB_CONN_MAX_AGE (seconds) says otherwise;
# `linia serve` keeps them (600 s): its request threads are a fixed pool (linia.asgi), not one per request.
_db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get(
    "LINIA_DB_CONN_MAX_AGE", "0")), conn_health_checks=True))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE makes writers queue on the
    # busy timeout instead of failing with "database is locked" on lock upgrade.
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    _db["TEST"] = {"NAME": os.environ.get("LINIA_TEST_SQLITE", "")} if os.environ.get("LINIA_TEST_SQLITE") else {}
elif _db["ENGINE"].endswith("postgresql") and os.environ.get("LINIA_DB_PREPARE", "1") != "0":
    # Parameters travel apart from the SQL (no quoting in Python), and the hot path's plain SQL is prepared
    # on a connection once it ran there 5 times: PostgreSQL may then plan it once (a generic plan) instead of
    # at every call. The ORM's statements are not prepared (linia.core.pgsession says why). LINIA_DB_PREPARE=0
    # for a pooler that cannot keep prepared statements.
    _db["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5, **_db.get("OPTIONS", {})}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: channels, cache, task queue ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("LINIA_REDIS_PREFIX", "")
REDIS_DETECTED = False  # True: `linia demo` found a Redis by itself (its worker and simulators get the same)
if not REDIS_URL and sys.argv[1:2] == ["demo"]:  # `linia demo` uses a local Redis if one answers
    from linia.demo.redis_detect import ENV as _DEMO_REDIS
    from linia.demo.redis_detect import detect as _detect_redis

    REDIS_URL, REDIS_PREFIX = _detect_redis(LINIA_HOME, os.environ.get(_DEMO_REDIS))
    REDIS_DETECTED = bool(REDIS_URL)
if REDIS_URL:
    _layer = os.environ.get("LINIA_REDIS_LAYER", "pubsub").strip() or "pubsub"
    if _layer not in ("pubsub", "core"):
        raise ImproperlyConfigured(f"LINIA_REDIS_LAYER={_layer!r}: use pubsub (the default) or core")
    # socket_timeout None: redis-py 8 times reads out after 5 s by default, which cuts the channel layer's
    # blocking receive and drops every idle websocket (redis/redis-py#4091, django/channels_redis#422).
    _redis_host: dict[str, Any] = {"address": REDIS_URL, "socket_timeout": None}
    if _layer == "pubsub":
        # channels-redis' Redis Pub/Sub layer (the default): a group send is one PUBLISH instead of several
        # round trips and a Lua script (1,000 chat sessions: p99 51-72 ms against 354-370 ms,
        # docs/operations.md). Nothing is kept for a socket that is away, which Linia's pushes never rely on (a
        # reconnecting desk or widget reads its state from the database); Linia sends only to groups.
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {
            "hosts": [_redis_host], "prefix": f"{REDIS_PREFIX}asgi"}}}
    else:
        # max_connections: redis-py 8 allows 100 connections per pool and then fails at once ("Too many
        # connections"); a burst of websocket connects (each a group_add) would get HTTP 500 (benchmarks/chat.py).
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
            "hosts": [{**_redis_host, "max_connections": int(os.environ.get("LINIA_REDIS_MAX_CONNECTIONS", "2000"))}],
            "prefix": f"{REDIS_PREFIX}asgi"}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": REDIS_PREFIX}}
    HUEY = {"huey_class": "huey.RedisHuey", "name": f"{REDIS_PREFIX}linia", "url": REDIS_URL, "immediate": False}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "linia.core.channel_layer.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "linia",
        "filename": str(LINIA_HOME / "huey.sqlite3"),
        "immediate": _env_flag("LINIA_HUEY_IMMEDIATE"),
    }
# `linia worker`: the routing, webhook and email tickers each keep a thread for most of every minute, so
# one thread would starve the queued jobs (outbound email, imports).
HUEY["consumer"] = {"workers": int(os.environ.get("LINIA_WORKER_THREADS", "4")), "worker_type": "thread"}

# --- email: outbound relay (Django's SMTP backend; LINIA_EMAIL_BACKEND=console|file for trying things out) ---
_email_backends = {"smtp": "django.core.mail.backends.smtp.EmailBackend",
                   "console": "django.core.mail.backends.console.EmailBackend",
                   "file": "django.core.mail.backends.filebased.EmailBackend"}
_email_default = "file" if sys.argv[1:2] == ["demo"] else "smtp"  # the demo writes its mail to var/sent-mail
EMAIL_BACKEND = _email_backends.get(os.environ.get("LINIA_EMAIL_BACKEND", _email_default), _email_backends["smtp"])
EMAIL_FILE_PATH = str(LINIA_HOME / "sent-mail")

# API bearer tokens a server process checked are remembered this long (seconds; 0 = ask the database on
# every request). Changes made in the same process (revoke, user/tenant/membership saved) apply at once;
# made elsewhere (`linia token revoke`, another server) within this time. See linia.api.auth.
API_TOKEN_CACHE_SECONDS = float(os.environ.get("LINIA_API_TOKEN_CACHE_SECONDS", "5"))
# The same for the voice lines CTI events name (linia.intake.voice.lines): a line or queue saved in this
# process applies at once, elsewhere within this time.
VOICE_LINE_CACHE_SECONDS = float(os.environ.get("LINIA_VOICE_LINE_CACHE_SECONDS", "5"))
EMAIL_HOST = os.environ.get("LINIA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("LINIA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LINIA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LINIA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("LINIA_EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_flag("LINIA_EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("LINIA_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("LINIA_EMAIL_FROM", "linia@localhost")
if os.environ.get("LINIA_EMAIL_REPLY_DOMAIN"):
    EMAIL_REPLY_DOMAIN = os.environ["LINIA_EMAIL_REPLY_DOMAIN"]
WEBHOOKS_ALLOW_PRIVATE = _env_flag("LINIA_WEBHOOKS_ALLOW_PRIVATE")
# Where customers and client staff reach this installation: links in emails (ticket page, portal).
PUBLIC_URL = os.environ.get("LINIA_PUBLIC_URL", "http://localhost:8000").rstrip("/")
CUSTOMER_LINK_DAYS = int(os.environ.get("LINIA_CUSTOMER_LINK_DAYS", "90"))

# --- i18n and time ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("pl", _("Polish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Screens for customers (chat widget, web forms, the ticket page) speak French too; staff screens en/ru/pl.
CUSTOMER_LANGUAGES = ("en", "ru", "pl", "fr")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = LINIA_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from here after collectstatic; finders before
STATICFILES_DIRS = [PACKAGE_DIR / "static"]  # css/js of the desk and vendored libraries
MEDIA_URL = "/media/"
MEDIA_ROOT = LINIA_HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("LINIA_MAX_BODY_BYTES", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
LINIA_ATTACHMENT_MAX_BYTES = int(os.environ.get("LINIA_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
LINIA_ATTACHMENT_BLOCKED_EXTENSIONS = {".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs", ".msi", ".ps1"}

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "SAMEORIGIN"
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if _env_flag("LINIA_FAST_PASSWORDS")
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINIA_LOG_LEVEL", "WARNING")},
}

"""Settings for promisedesk, read from the environment only.

Every helper fails loudly on a value it cannot understand, so a typo in an
environment variable stops the process at start-up instead of misbehaving later.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


VAR_DIR = Path(env_str("PROMISEDESK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "promisedesk-development-key-change-me-in-production")
DEBUG = env_bool("PROMISEDESK_DEBUG", False)
ALLOWED_HOSTS = [h for h in env_str("PROMISEDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "promisedesk.accounts",
    "promisedesk.calendars",
    "promisedesk.promises",
    "promisedesk.cases",
    "promisedesk.commitments",
    "promisedesk.breaches",
    "promisedesk.desk",
    "promisedesk.notifications",
    "promisedesk.recovery",
    "promisedesk.intake",
    "promisedesk.portal",
    "promisedesk.escalations",
    "promisedesk.complaints",
    "promisedesk.capa",
    "promisedesk.demo",
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
]

ROOT_URLCONF = "promisedesk.urls"
WSGI_APPLICATION = "promisedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "promisedesk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _database_config() -> dict[str, Any]:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'promisedesk.sqlite3'}")
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except Exception as exc:  # dj-database-url raises several kinds for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {url!r}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock up front, so two workers never
        # deadlock upgrading a read lock; WAL lets readers go on while one writes.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        test_name = os.environ.get("PROMISEDESK_TEST_SQLITE_FILE")
        if test_name:
            # Tests with real concurrent processes need a file they can all open.
            config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "promisedesk" / "locale"]
TIME_ZONE = env_str("PROMISEDESK_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

MEDIA_URL = "/media/"  # never served publicly: attachments go through views that check access
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders; it only wants the folder
STATICFILES_DIRS = [BASE_DIR / "promisedesk" / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:queue"
LOGOUT_REDIRECT_URL = "login"

# Where customers reach promisedesk: the start of every link in a message.
PROMISEDESK_BASE_URL = env_str("PROMISEDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Replies to messages come back here, as local+TOKEN@domain (see promisedesk.intake.threading).
PROMISEDESK_REPLY_ADDRESS = env_str("PROMISEDESK_REPLY_ADDRESS", "reply@promisedesk.localhost")

# Outgoing email. Without PROMISEDESK_EMAIL_HOST, mail is written to files in var/mail.
EMAIL_HOST = env_str("PROMISEDESK_EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "PROMISEDESK_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = int(env_float("PROMISEDESK_EMAIL_PORT", 25))
EMAIL_HOST_USER = env_str("PROMISEDESK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("PROMISEDESK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PROMISEDESK_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("PROMISEDESK_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("PROMISEDESK_EMAIL_TIMEOUT", 30.0)
DEFAULT_FROM_EMAIL = env_str("PROMISEDESK_FROM_EMAIL", "promisedesk <service@promisedesk.localhost>")

# SMS: "file" (development: var/sms, and the log), "console" (the same) or "twilio".
PROMISEDESK_SMS_BACKEND = env_choice("PROMISEDESK_SMS_BACKEND", "file", ("file", "console", "twilio"))
PROMISEDESK_SMS_DIR = VAR_DIR / "sms"
PROMISEDESK_TWILIO_ACCOUNT_SID = env_str("PROMISEDESK_TWILIO_ACCOUNT_SID", "")
PROMISEDESK_TWILIO_AUTH_TOKEN = env_str("PROMISEDESK_TWILIO_AUTH_TOKEN", "")
PROMISEDESK_TWILIO_FROM = env_str("PROMISEDESK_TWILIO_FROM", "")
PROMISEDESK_TWILIO_BASE_URL = env_str("PROMISEDESK_TWILIO_BASE_URL", "https://api.twilio.com")
# Seconds one webhook or SMS request may take; attempts before a message is given up.
PROMISEDESK_HTTP_TIMEOUT = env_float("PROMISEDESK_HTTP_TIMEOUT", 10.0)
PROMISEDESK_OUTBOX_MAX_ATTEMPTS = int(env_float("PROMISEDESK_OUTBOX_MAX_ATTEMPTS", 10))

# Largest file a customer may add on their case page, in bytes (at most 10 MB).
PROMISEDESK_PORTAL_MAX_UPLOAD = int(env_float("PROMISEDESK_PORTAL_MAX_UPLOAD", 10 * 1024 * 1024))
# Which verified breaches open a complaint (a recovery case) by themselves: claims, all or none.
PROMISEDESK_RECOVERY_ON_BREACH = env_choice("PROMISEDESK_RECOVERY_ON_BREACH", "claims", ("claims", "all", "none"))
# How long after telling a complaint's result its owner follows up, in days.
PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS = env_float("PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS", 3)
if not 0 < PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS <= 365:
    raise ImproperlyConfigured("PROMISEDESK_COMPLAINT_FOLLOW_UP_DAYS must be more than 0 and at most 365")

# Intake: attachment limits per email, web-form rate limits (django-ratelimit rates), SMTP message size.
PROMISEDESK_INTAKE_MAX_ATTACHMENT_BYTES = int(env_float("PROMISEDESK_INTAKE_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
PROMISEDESK_INTAKE_MAX_ATTACHMENTS = int(env_float("PROMISEDESK_INTAKE_MAX_ATTACHMENTS", 20))
PROMISEDESK_INTAKE_FORM_RATE_IP = env_str("PROMISEDESK_INTAKE_FORM_RATE_IP", "20/h")
PROMISEDESK_INTAKE_FORM_RATE_EMAIL = env_str("PROMISEDESK_INTAKE_FORM_RATE_EMAIL", "5/h")
PROMISEDESK_INTAKE_SMTP_MAX_BYTES = int(env_float("PROMISEDESK_INTAKE_SMTP_MAX_BYTES", 32 * 1024 * 1024))

# The language of messages to staff (escalations).
PROMISEDESK_STAFF_LANGUAGE = env_str("PROMISEDESK_STAFF_LANGUAGE", "zh-Hans")

# How often the worker looks for due clocks, in seconds.
PROMISEDESK_SWEEP_INTERVAL = env_float("PROMISEDESK_SWEEP_INTERVAL", 5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"promisedesk": {"handlers": ["console"], "level": "INFO"}},
}

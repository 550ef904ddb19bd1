"""Settings for the test suite: production settings with a throwaway key and a fast password hasher.

DATABASE_URL and REDIS_URL still choose the database and cache, so the same suite
runs on SQLite and on PostgreSQL with Redis.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "*")

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The test client speaks plain HTTP: the console's HTTPS redirect would answer every admin test with a 301.
# tests/test_security.py turns it back on where it is the subject.
SECURE_SSL_REDIRECT = False
# Tests read English unless a test asks for Chinese (HTTP_ACCEPT_LANGUAGE="zh-hans", translation.override);
# production's default stays zh-hans (settings.py), and zwadmin/tests/test_i18n.py checks the console in it.
LANGUAGE_CODE = "en"

import os

# The test suite runs in debug-less mode like production, with a throwaway key.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "*")

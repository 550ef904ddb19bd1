"""WSGI entry points.

``application`` is Django's (``WSGI_APPLICATION``: ``runserver``); ``served`` is what the production server runs
(``python -m zwadmin.serve``, granian): the same application inside the request log (zwadmin/access_log.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from zwadmin.access_log import RequestLog

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwadmin.settings")

application = get_wsgi_application()
served = RequestLog(application)

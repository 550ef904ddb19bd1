"""Settings of the benchmark's app nodes: production settings plus the constant baseline view.

``bench.urls`` adds ``/bench/constant`` next to every production path, so the baseline is served by the
same code, middleware and gunicorn configuration as the lookup it is compared with. Production never
loads this module, so it never exposes that view.
"""

from zwadmin.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

"""Settings of the benchmark's app nodes: production settings plus the constant baseline view.

``bench.urls`` adds ``/bench/constant`` next to every production path, so the baseline is served by the
same code, middleware and server as the lookup it is compared with. Production never
loads this module, so it never exposes that view.
"""

import os

from zwadmin.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The comparison node of bench/serving.py serves Django as it was before the machine paths' short way: every
# request through the whole middleware chain.
if os.environ.get("BENCH_FULL_MIDDLEWARE"):
    MIDDLEWARE = [name for name in MIDDLEWARE if name != "zwadmin.machine.MachineViewMiddleware"]  # noqa: F405

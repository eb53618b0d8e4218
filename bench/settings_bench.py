"""Production settings plus the benchmark's yardstick endpoint (bench/bench_checkout.py)."""

from pancake.settings import *  # noqa: F403

ROOT_URLCONF = "bench.yardstick_urls"

"""Settings of the property tests (hypothesis): bounded and derandomised, the same examples on every run, whatever
ran before. EXACTNESS_EXPLORE=N explores instead: N examples per test, new ones each run
(`EXACTNESS_EXPLORE=300 .venv/bin/python -m pytest integration_tests/test_exactness.py`)."""

import os

from hypothesis import HealthCheck, Phase, settings

EXPLORE = int(os.environ.get("EXACTNESS_EXPLORE", "0"))


def property_settings(examples: int) -> settings:
    """`examples` examples a test, the same each run; EXACTNESS_EXPLORE's number of new ones when it is set."""
    return settings(
        max_examples=EXPLORE or examples,
        deadline=None,
        derandomize=not EXPLORE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        phases=[Phase.explicit, Phase.generate, Phase.shrink] if EXPLORE else settings.default.phases,
    )

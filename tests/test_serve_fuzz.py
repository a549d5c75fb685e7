"""Schema-driven fuzzing: schemathesis generates valid and invalid requests from /openapi.json and
sends them to a real server (with a real reference index, so /v1/trace runs too); whatever it sends,
the server never fails (no 500; only the documented 503/504), and its answers match the schema it
publishes (content type, body shape).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from unspin.serve.app import ServeConfig

from .serve_helpers import build_index, running, serve_pack_dir


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index = build_index(tmp_path_factory.mktemp("refs"), serve_pack_dir())
    # A small body limit makes 413 reachable for generated bodies too.
    config = ServeConfig(pack_dir=str(serve_pack_dir()), index_dir=str(index), timeout=120, max_bytes=64 * 1024)
    with running(config) as base:
        assert httpx.get(f"{base}/healthz").json()["index"], "the fuzzed server traces for real"
        yield base


def _operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis' own pytest plugin does not run under pytest 9 yet, so each operation's strategy is
# driven by hypothesis directly: the same generation and the same checks.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_api_never_fails_and_matches_its_schema(url: str, mode: GenerationMode) -> None:
    operations = _operations(url)
    assert {op.path for op in operations} >= {"/v1/check", "/v1/restore", "/v1/repair", "/v1/trace", "/healthz"}
    traced: list[int] = []
    for op in operations:
        if mode is GenerationMode.NEGATIVE and op.method.upper() == "GET":
            continue  # nothing to get wrong: GET /healthz takes no input

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            if case.path == "/v1/trace":
                traced.append(response.status_code)
            # 503 (busy) and 504 (time limit) are documented answers, not failures.
            assert response.status_code < 500 or response.status_code in (503, 504), (
                f"{case.method} {case.path} {case.body!r} -> {response.status_code} {response.text[:300]}"
            )
            case.validate_response(response, checks=[content_type_conformance, response_schema_conformance])

        run()
    if mode is GenerationMode.POSITIVE:
        assert 200 in traced, f"valid /v1/trace bodies were traced, not refused: {sorted(set(traced))}"

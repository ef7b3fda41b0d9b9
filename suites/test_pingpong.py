"""PRE 2.6 ebMS Ping/Pong: DSO-LV answers our Ping with a Pong, over mutual TLS.

Sync or async follows the CPA: with ``syncReplyMode="none"`` (the Digikoppeling default) the
Ping gets HTTP 204 and the Pong arrives as a new POST at our receiver (``[ebms] listen``);
otherwise it comes back in the HTTP response. Every fault has its own verdict: TLS or network
failure, HTTP error, SOAP Fault, MessageError, no Pong, or a Pong for another message.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pytest_dso.ebms.pingpong import PingResult, PingTarget, ping_target
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.evidence.allure import Evidence
from pytest_dso.settings import DsoSettings
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.dso_step("PRE 2.6")]


@pytest.mark.health
def test_ping_is_answered_with_a_pong(dso_ping_result: PingResult, dso_evidence: Evidence) -> None:
    """A Ping under the CPA gets a Pong answering it (CPAId, ConversationId, RefToMessageId,
    From/To swapped), sync or async as the CPA says. The report shows both envelopes, the ebMS
    ids, timings and the TLS facts."""
    result = dso_ping_result
    dso_evidence.attach_ping(result)
    expect_clean(result.findings, f"Ping/Pong with {result.url}")
    assert result.pong is not None


@pytest.mark.health
def test_pong_comes_the_way_the_cpa_says(dso_ping_result: PingResult) -> None:
    """Async CPA: 204 and the Pong at our receiver. Sync CPA: the Pong in the HTTP response."""
    result = dso_ping_result
    expect_clean(result.findings, f"Ping/Pong with {result.url}")
    if result.mode == "async":
        assert result.exchanges[0].status == 204
        assert result.pong_record is not None
    else:
        assert result.exchanges[0].status == 200
        assert result.pong_record is None


@pytest.mark.local_only
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_ping_pong_in_both_reply_modes(
    mode: str,
    dso_local_ping_targets: Mapping[str, PingTarget],
    dso_ebms_receiver: EbmsReceiver,
    dso_settings: DsoSettings,
    dso_evidence: Evidence,
) -> None:
    """The harness handles both reply modes end to end (local MSH, real mTLS)."""
    result = ping_target(dso_local_ping_targets[mode], dso_ebms_receiver,
                       dso_settings.file.ebms.timeout)
    dso_evidence.attach_ping(result)
    expect_clean(result.findings, f"{mode} Ping/Pong")
    assert result.mode == mode

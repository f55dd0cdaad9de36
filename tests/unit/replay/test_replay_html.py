"""The HTML report stands alone and carries one row per event, escaped."""

from __future__ import annotations

import io
import json
import re

from replay_log import LogMaker

from corps.replay.builder import TimelineBuilder
from corps.replay.coverage import Coverage
from corps.replay.filters import RecordFilter
from corps.replay.reader import ReplayRange
from corps.replay.render_html import PAGE, render_html
from corps.replay.report import ReplayReport
from corps.replay.verify import verify_log


def html_of(maker: LogMaker) -> str:
    builder = TimelineBuilder(maker.topology, maker.replay_topics)
    records = maker.records()
    builder.add_all(records)
    report = ReplayReport("rp", 2, ["rp.A"], [], ReplayRange(), RecordFilter(), builder.build(), len(records))
    report.verification = verify_log(
        maker.by_workflow(),
        topology=maker.topology,
        topics=maker.replay_topics,
        codec=maker.codec,
        coverage=Coverage.everything(maker.replay_topics.roles),
    )
    out = io.StringIO()
    render_html(report, out, digest="sha256:abc")
    return out.getvalue()


def test_one_section_per_workflow_and_one_row_per_event(maker: LogMaker) -> None:
    page = html_of(maker)
    assert page.count('<section class="workflow"') == 4
    assert page.count('<tr class="event') == 35
    assert 'data-status="compensated"' in page
    assert 'id="verdict" data-ok="yes"' in page
    assert "sha256:abc" in page


def test_no_external_assets(maker: LogMaker) -> None:
    page = html_of(maker)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page


def test_values_from_the_log_are_escaped() -> None:
    maker = LogMaker()
    maker.propose("A", "<script>alert(1)</script>", 0, tenant="a&b")
    page = html_of(maker)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b" in page


def test_workflows_past_the_first_page_wait_in_inline_json_escaped() -> None:
    maker = LogMaker()
    for i in range(PAGE + 30):
        maker.happy(f"wf-{i:04d}", i, partition=i % 2)
    maker.propose("A", "wf-</script><!--x", 10_000)
    page = html_of(maker)
    assert page.count('<section class="workflow"') == PAGE  # the first page only, as plain HTML
    start = page.index('<script type="application/json" id="deferred-workflows">')
    block = page[start : page.index("</script>", start)]
    assert "<!--" not in block
    deferred = json.loads(block[block.index(">") + 1 :])
    assert [d[0] for d in deferred] == [*(f"wf-{i:04d}" for i in range(PAGE, PAGE + 30)), "wf-</script><!--x"]
    assert all(d[4].startswith('<section class="workflow"') and '<tr class="event' in d[4] for d in deferred)
    assert deferred[0][3].startswith('<tr class="workflow-row" data-workflow="wf-0100"')
    assert "&lt;/script&gt;" in deferred[-1][4]

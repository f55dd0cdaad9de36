"""``corps publish EVENT_TYPE [FILE | -]``: publish events from JSON Lines, validated before anything is sent.

Each non-blank line is one event, in one of two forms:

* the payload itself, e.g. ``{"ticket_id": "T-1", ...}``: a new workflow id is generated for it;
* a CloudEvents JSON event, recognised by its ``specversion`` key: ``{"specversion": "1.0", "data":
  {...}, "workflowid": "wf-42", "tenant": "acme", ...}``. Its ``id``, ``source``, ``time``, ``tenant``,
  ``workflowid``, ``causationid``, ``step``, ``traceparent`` and ``tracestate`` are used, other string
  attributes become extensions; ``type``, when present, must be EVENT_TYPE.

Exit codes: 0 all published; 1 some line rejected (nothing is sent unless ``--skip-invalid``) or the
registry refused the schema; 2 usage error or unknown event type; 3 the schema registry cannot be reached;
4 Kafka cannot be reached or did not acknowledge every record.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]  # no __all__ there
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from corps.cli._publish_lines import Parsed, parse_lines
from corps.cli._stack import StackNotAvailableError, resolve_stack
from corps.events import (
    BrokerUnavailableError,
    CatalogSubject,
    DeliveryReport,
    EventCodec,
    EventProducer,
    RegistryError,
    RegistryUnavailableError,
    SchemaCatalog,
    SchemaRef,
    SchemaRegistry,
    default_topic,
    register_subject,
    topic_name_strategy,
    topic_record_name_strategy,
)
from corps.events.errors import SchemaCatalogError
from corps.events.subjects import SubjectNameStrategy
from corps.settings import KafkaSettings

__all__ = ["parse_lines", "publish"]

EXIT_REJECTED, EXIT_USAGE, EXIT_REGISTRY, EXIT_BROKER = 1, 2, 3, 4
PROGRESS_FROM = 1_000
_STRATEGIES = {"topic": topic_name_strategy, "topic-record": topic_record_name_strategy}


@click.command("publish")
@click.argument("event_type")
@click.argument("input_file", metavar="[FILE | -]", type=click.File("r", encoding="utf-8"), default="-")
@click.option(
    "--schemas",
    "schemas_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory of versioned schemas (the source of truth).",
)
@click.option("--topic", help="Topic to publish to [default: EVENT_TYPE itself, until a topology maps it].")
@click.option("--tenant", default="default", show_default=True, help="Tenant of lines that name none.")
@click.option("--source", default="corps://cli/publish", show_default=True, help="CloudEvents source.")
@click.option(
    "--schema-version", type=click.IntRange(min=1), help="Write with this version [default: latest]."
)
@click.option(
    "--subject-strategy",
    type=click.Choice(sorted(_STRATEGIES)),
    default="topic",
    show_default=True,
    help="Registry subject: <topic>-value, or <topic>-<event type>.",
)
@click.option(
    "--register/--no-register",
    default=True,
    show_default=True,
    help="Register the subject's missing versions, in order, before sending.",
)
@click.option("--dry-run", is_flag=True, help="Validate only; contact nothing, send nothing.")
@click.option("--skip-invalid", is_flag=True, help="Send the valid lines even when some are rejected.")
@click.option(
    "--create-topic", is_flag=True, help="Create the topic (broker defaults) when it does not exist."
)
@click.option(
    "--print-ids", is_flag=True, help="Print line, workflow id and event id of every published event."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the broker's acknowledgements.",
)
def publish(
    event_type: str,
    input_file: IO[str],
    schemas_dir: Path,
    topic: str | None,
    tenant: str,
    source: str,
    schema_version: int | None,
    subject_strategy: str,
    register: bool,
    dry_run: bool,
    skip_invalid: bool,
    create_topic: bool,
    print_ids: bool,
    timeout: float,
) -> None:
    """Publish EVENT_TYPE events, one JSON object per line, from FILE (or - for stdin).

    Every line is validated against the schema before anything is sent; the producer is idempotent
    (acks=all) and waits until the broker acknowledged every record. A line is either the payload or
    a CloudEvents JSON event (with "specversion"), which may carry its own workflowid and tenant; a
    payload line gets a newly generated workflow id.
    """
    try:
        subject = SchemaCatalog.load(schemas_dir).subject(event_type)
        ref = subject.latest if schema_version is None else subject.version(schema_version)
    except SchemaCatalogError as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from exc
    lines = input_file.read().splitlines()
    parsed = parse_lines(lines, ref, tenant=tenant, source=source)
    for number, reason in parsed.rejected:
        click.echo(f"line {number}: rejected: {reason}", err=True)
    total = len(parsed.accepted) + len(parsed.rejected)
    if dry_run or (parsed.rejected and not skip_invalid):
        why = (
            "dry run" if dry_run else "nothing sent because of rejected lines (--skip-invalid sends the rest)"
        )
        counts = f"{len(parsed.accepted)} valid, {len(parsed.rejected)} rejected of {total} line(s)"
        click.echo(f"{event_type} v{ref.version}: {counts}; {why}")
        if parsed.rejected:
            raise click.exceptions.Exit(EXIT_REJECTED)
        return
    if not parsed.accepted and not parsed.rejected:
        click.echo(f"{event_type}: no events in the input; nothing sent")
        return
    target = topic or default_topic(event_type)
    delivered = _send(
        parsed, ref, subject, target, _STRATEGIES[subject_strategy], register, create_topic, timeout
    )
    failed = [(n, r.error) for n, r in delivered if r is not None and not r.ok]
    ok = [(n, r) for n, r in delivered if r is not None and r.ok]
    unconfirmed = [n for n, r in delivered if r is None]
    envelopes = {n: e for n, _, e in parsed.accepted}
    if print_ids:
        for number, report in ok:
            envelope = envelopes[number]
            click.echo(
                f"line {number}: workflow {envelope.workflow_id} event {envelope.id} "
                f"-> {report.topic}[{report.partition}]@{report.offset}"
            )
    for number, error in failed:
        click.echo(f"line {number}: not delivered: {error}", err=True)
    if unconfirmed:
        lines_text = _ranges(unconfirmed)
        click.echo(
            f"{len(unconfirmed)} record(s) not acknowledged within {timeout:g} s (lines {lines_text}): "
            "they may or may not have been written",
            err=True,
        )
    counts = f"published {len(ok)}, rejected {len(parsed.rejected)}, failed {len(failed) + len(unconfirmed)}"
    click.echo(f"{event_type} v{ref.version} -> {target}: {counts} of {total} line(s)")
    if failed or unconfirmed:
        raise click.exceptions.Exit(EXIT_BROKER)
    if parsed.rejected:
        raise click.exceptions.Exit(EXIT_REJECTED)


def _send(
    parsed: Parsed,
    ref: SchemaRef,
    subject: CatalogSubject,
    topic: str,
    strategy: SubjectNameStrategy,
    register: bool,
    create_topic: bool,
    timeout: float,
) -> list[tuple[int, DeliveryReport | None]]:
    try:
        kafka, registry_settings = resolve_stack()
    except StackNotAvailableError as exc:
        click.echo(f"error: {exc.message}; nothing was sent", err=True)
        raise click.exceptions.Exit(EXIT_BROKER if "kafka" in exc.missing else EXIT_REGISTRY) from exc
    producer = EventProducer(kafka, client_id="corps-publish")
    try:
        topics = producer.check_connection()
    except BrokerUnavailableError as exc:
        click.echo(f"error: {exc}; nothing was sent", err=True)
        raise click.exceptions.Exit(EXIT_BROKER) from exc
    if topic not in topics:
        if not create_topic:
            click.echo(
                f"error: topic {topic} does not exist (apply a topology, or pass --create-topic); "
                "nothing was sent",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_USAGE)
        _create(kafka, topic)
    with SchemaRegistry(registry_settings) as registry:
        codec = EventCodec(registry, subject_strategy=strategy)
        try:
            if register:
                for entry in register_subject(registry, strategy(topic, ref.event_type), subject):
                    if entry.version == ref.version:
                        codec.cache_schema(entry.schema_id, ref, topic=topic)
            codec.prepare(topic, ref)
        except RegistryUnavailableError as exc:
            click.echo(f"error: {exc}; nothing was sent", err=True)
            raise click.exceptions.Exit(EXIT_REGISTRY) from exc
        except RegistryError as exc:
            click.echo(f"error: {exc}; nothing was sent", err=True)
            raise click.exceptions.Exit(EXIT_REJECTED) from exc
        results: dict[int, DeliveryReport | None] = {n: None for n, _, _ in parsed.accepted}
        with _progress(len(parsed.accepted)) as progress:
            task = progress.add_task(f"publishing to {topic}", total=len(parsed.accepted))
            for number, datum, envelope in parsed.accepted:
                record = codec.encode_datum(topic, ref, datum, envelope)

                def done(report: DeliveryReport, number: int = number) -> None:
                    results[number] = report
                    progress.advance(task)

                producer.send(record, done)
                producer.poll(0)
            producer.flush(timeout)
    return list(results.items())


def _create(kafka: KafkaSettings, topic: str) -> None:
    config: dict[str, str | int | float | bool] = {**kafka.client_config()}
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, num_partitions=-1, replication_factor=-1)])[topic].result(timeout=30)


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=total < PROGRESS_FROM,
    )


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")

"""``newsvault serve``: one Prefect deployment per site, on the cron of its profile.

At most one run per site at a time: each deployment has a concurrency limit of 1 with the
``CANCEL_NEW`` collision strategy, so a run that comes due while the last one still crawls is
cancelled by the Prefect server, not queued behind it. Schedules stay active when ``serve``
stops (``pause_on_shutdown=False``): a restart continues the schedule.

Prefect runs each served flow run in a process of its own, which loads the deployment's
entrypoint. The CLI gives ``serve_sites`` the flow those processes run (``served_flow`` around
a body of its own that calls ``archive_site``'s: ``flows.cli.served``), so that what only the
CLI may do there (register the run with the local stack for ``newsvault down``) happens in the
process that runs the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import Flow, flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType
from pydantic import ValidationError

from flows.errors import ConfigError
from flows.orchestrate.report import RunSummary
from flows.sites import load_profile

# archive-site's body as ``serve`` runs it: (site, max_pages) -> the run's summary
ServedBody = Callable[[str, int | None], RunSummary]
ServedFlow = Flow[[str, int | None], RunSummary]

ONE_RUN_PER_SITE = ConcurrencyLimitConfig(
    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
)


def cron_schedule(cron: str, timezone: str, where: str) -> CronSchedule:
    """A validated cron schedule; a bad expression or timezone is a one-line ``ConfigError``."""
    try:
        return CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        reason = exc.errors()[0].get("msg", "invalid") if exc.errors() else str(exc)
        raise ConfigError(
            f"{where}: cron {cron!r} (timezone {timezone!r}) is not valid: {reason}; "
            "use five fields such as '17 */6 * * *'"
        ) from None


def site_deployment(
    site: str,
    cron: str | None = None,
    max_pages: int | None = None,
    work_pool: str | None = None,
    served: ServedFlow | None = None,
) -> RunnerDeployment:
    """``served``: the flow the deployment runs (default: ``archive_site``)."""
    from flows.orchestrate.archive import archive_site

    profile = load_profile(site)
    where = "--cron" if cron else f"{profile.source} [schedule] cron"
    schedule = cron_schedule(cron or profile.schedule.cron, profile.schedule.timezone, where)
    parameters: dict[str, Any] = {"site": site}
    if max_pages:
        parameters["max_pages"] = max_pages
    target = archive_site if served is None else served
    deployment = target.to_deployment(
        name=site,
        schedule=Cron(schedule.cron, timezone=schedule.timezone),
        parameters=parameters,
        concurrency_limit=ONE_RUN_PER_SITE,
        tags=["newsvault", f"site:{site}"],
        work_pool_name=work_pool,
        # workers import the flow from the installed package: no code storage to pull
        entrypoint_type=EntrypointType.MODULE_PATH if work_pool else EntrypointType.FILE_PATH,
        description=f"Archive {profile.title or site} ({profile.base_url}) on {schedule.cron}",
    )
    assert isinstance(deployment, RunnerDeployment)  # sync call: not a coroutine
    return deployment


def served_flow(body: ServedBody) -> ServedFlow:
    """A decorator: the archive-site flow (``archive_site``'s name, run names and options) with
    ``body`` as its function (bound to the body's own name, so that it is the entrypoint)."""
    from flows.orchestrate.archive import archive_site

    options = archive_site
    return flow(
        name=options.name, flow_run_name=options.flow_run_name, log_prints=options.log_prints
    )(body)


def serve_sites(
    sites: list[str],
    cron: str | None = None,
    max_pages: int | None = None,
    served: ServedFlow | None = None,
) -> None:
    """Build every deployment first (so a bad profile fails before anything starts), then serve."""
    from prefect import serve

    deployments = [site_deployment(site, cron, max_pages, served=served) for site in sites]
    serve(*deployments, pause_on_shutdown=False)


def deploy_sites(
    sites: list[str], work_pool: str, cron: str | None = None, max_pages: int | None = None
) -> list[str]:
    """Register the deployments with a work pool (its workers run them); returns their ids."""
    from prefect import deploy
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(work_pool)
        except ObjectNotFound:
            raise ConfigError(
                f"work pool {work_pool!r} does not exist on the Prefect server: create it with "
                f"`prefect work-pool create {work_pool} --type process` (or choose another with "
                "--pool)"
            ) from None
    deployments = [site_deployment(site, cron, max_pages, work_pool) for site in sites]
    ids = deploy(
        *deployments,
        work_pool_name=work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    assert isinstance(ids, list)  # sync call: not a coroutine
    return [str(i) for i in ids]

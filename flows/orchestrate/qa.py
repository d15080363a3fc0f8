"""The replay-QA step of a run (profile ``[qa] enabled``), after its objects are stored and its
state saved: the sample rendered live and replayed (``flows.qa``), published in the Prefect UI
(a table of every page's scores with its replay link; the worst pages' pictures, live | replay |
difference), summarised in one line of the run report. Pages crossing ``[health]`` thresholds
become health problems (the run fails after its report, naming them); QA that cannot run at all
(Chromium missing, pywb not starting) is one problem too, never a lost run: what was archived
stays archived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.errors import NewsvaultError
from flows.qa import pictures_markdown, problems, qa_archived_run, rows, summary
from flows.sites import SiteProfile
from flows.store import Store, StoreConfig


@dataclass(frozen=True)
class QAOutcome:
    line: str  # the run report's one line
    problems: list[str] = field(default_factory=list)


@task(name="replay-qa", cache_policy=NO_CACHE)
def qa_task(config: StoreConfig, profile: SiteProfile, run_id: str) -> QAOutcome:
    logger = get_run_logger()
    try:
        result, skipped = qa_archived_run(
            Store(config), profile, run_id, profile.qa.sample, log=logger.info
        )
    except NewsvaultError as exc:
        logger.error("replay QA could not run: %s", exc)
        return QAOutcome(f"not run: {exc}", [f"replay QA could not run: {exc}"])
    for problem in skipped:
        logger.warning("replay QA: mirror: %s", problem)
    line = summary(result)
    create_table_artifact(
        rows(result),
        key=f"{profile.name}-replay-qa",
        description=f"replay QA of run {run_id}: {line} (worst first; replay links open in "
        f"`newsvault replay serve {profile.name}` at {profile.qa.replay_url})",
    )
    create_markdown_artifact(
        pictures_markdown(result),
        key=f"{profile.name}-replay-qa-pictures",
        description=f"replay QA of run {run_id}: worst pages, live | replay | difference",
    )
    logger.info("replay QA: %s", line)
    return QAOutcome(line, problems(result, profile.health))

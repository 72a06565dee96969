"""The jobs of the weekly batch: the draft plan on the cutoff day (11:00, so the planner finds
it ready to review and approve before 12:00), and the reminder when the province's matching
result is not imported two working days after the cutoff."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlmodel import Session, col, func, select

from supply.auth.models import User
from supply.auth.roles import Role
from supply.jobs.context import JobContext, to_each
from supply.jobs.daily import not_a_working_day
from supply.jobs.service import JobOutcome
from supply.notifications.service import Reminder, managers_of, people_with_roles
from supply.policy import Batch, batch_for
from supply.weekly.models import LineKind, PlanLine, PlanRun, ProvinceMatch, RunStatus
from supply.weekly.queries import live_run
from supply.weekly.run import run_weekly


def cutoff_day_batch(ctx: JobContext) -> Batch | None:
    """The batch whose cutoff is today, later than now (None on any other day, or after it)."""
    batch = batch_for(ctx.now, calendar=ctx.calendar, policy=ctx.policy)
    return batch if batch.cutoff.astimezone(ctx.policy.zone).date() == ctx.today else None


def monday_draft(ctx: JobContext) -> JobOutcome:
    """On the batch's cutoff day (the moved day in a holiday week) plan the batch as a draft,
    unless it has a run already; tell the planners the cutoff is near while the batch has no
    approved plan, and project managers of lines the draft makes late or leaves unmet."""
    batch = cutoff_day_batch(ctx)
    if batch is None:
        upcoming = batch_for(ctx.now, calendar=ctx.calendar, policy=ctx.policy)
        when = upcoming.cutoff.astimezone(ctx.policy.zone)
        return JobOutcome(
            f"今天不是批次截止日（批次 {upcoming.id} 于 {when:%Y-%m-%d %H:%M} 截止）/ today is not "
            f"a cutoff day (batch {upcoming.id} closes {when:%Y-%m-%d %H:%M})",
            {"batch_id": upcoming.id, "cutoff": when.isoformat()},
            skipped=True,
        )
    with Session(ctx.engine) as session:
        existing = live_run(session, batch.id)
        found = (existing.id, existing.status) if existing is not None else None
    if found is not None:
        run_id, status = found
        outcome = JobOutcome(
            f"批次 {batch.id} 已有计划（第 {run_id} 次运行，{status}）/ already planned: batch "
            f"{batch.id} has run {run_id} ({status})",
            {"batch_id": batch.id, "run_id": run_id, "status": status},
            skipped=True,
        )
    else:
        made = run_weekly(
            engine=ctx.engine, at=ctx.now, now=ctx.now, user=ctx.user, calendar=ctx.calendar,
            policy=ctx.policy, settings=ctx.settings, progress=ctx.step,
        )  # fmt: skip
        run_id, status = made.run.id, RunStatus.DRAFT
        outcome = JobOutcome(
            f"批次 {batch.id} 草稿计划已生成（第 {run_id} 次运行），请在 12:00 前审批 / batch "
            f"{batch.id} planned as a draft (run {run_id}): review and approve it before the "
            "cutoff",
            {"batch_id": batch.id, "run_id": run_id, "run_dir": str(made.run_dir)},
        )
    ctx.step("提醒计划员与项目经理 / telling planners and project managers")
    told, mailed = ctx.tell(_draft_reminders(ctx, batch, run_id, status))
    return JobOutcome(
        outcome.message, {**outcome.result, "notified": told, "emailed": mailed}, outcome.skipped
    )


def _draft_reminders(
    ctx: JobContext, batch: Batch, run_id: int | None, status: str
) -> list[tuple[User, Reminder]]:
    cutoff = batch.cutoff.astimezone(ctx.policy.zone)
    pairs: list[tuple[User, Reminder]] = []
    with Session(ctx.engine) as session:
        if status != RunStatus.APPROVED:
            pairs += to_each(
                people_with_roles(session, [Role.PLANNER]),
                Reminder(
                    kind="plan.cutoff",
                    key=f"plan.cutoff:{batch.id}",
                    title=f"批次 {batch.id} 将于 {cutoff:%m-%d %H:%M} 截止，计划尚未批准 / batch "
                    f"{batch.id} closes at {cutoff:%m-%d %H:%M} without an approved plan",
                    body=f"批次 {batch.id} 的草稿计划（第 {run_id} 次运行）待审批，截止 "
                    f"{cutoff:%Y-%m-%d %H:%M}。/ The draft plan of batch {batch.id} (run {run_id}) "
                    f"waits for approval; the batch closes {cutoff:%Y-%m-%d %H:%M}. 审批: "
                    f"gridsupply plan approve {batch.id}",
                    link="/weekly",
                ),
            )
        late = session.exec(
            select(PlanLine).where(
                PlanLine.run_id == run_id,
                col(PlanLine.project_id).is_not(None),
                (col(PlanLine.late_days) > 0) | (PlanLine.kind == LineKind.UNMET),
            )
        ).all()
        by_project: dict[str, list[PlanLine]] = defaultdict(list)
        for line in late:
            assert line.project_id is not None
            by_project[line.project_id].append(line)
        managers = managers_of(session, set(by_project))
    for project, lines in sorted(by_project.items()):
        listed = "\n".join(
            f"- {line.material_code} × {line.quantity}："
            + (
                f"未满足 / unmet ({line.reason or '-'})"
                if line.kind == LineKind.UNMET
                else f"{line.arrival} 到货，晚于需到货日 {line.need_by} {line.late_days} 天 / "
                f"arrives {line.arrival}, {line.late_days} days after need-by {line.need_by}"
            )
            for line in lines[:50]
        )
        pairs += to_each(
            managers.get(project, []),
            Reminder(
                kind="line.late",
                key=f"line.late:{batch.id}:{project}",
                title=f"项目 {project} 有 {len(lines)} 行物资延迟或未满足（批次 {batch.id}）/ "
                f"{len(lines)} lines of {project} late or unmet in batch {batch.id}",
                body=listed,
                link=f"/projects/{project}",
            ),
        )
    return pairs


def province(ctx: JobContext) -> JobOutcome:
    """Remind the planners of approved runs whose province matching result is not imported two
    working days after the cutoff (the day the province returns it) or later."""
    off = not_a_working_day(ctx)
    if off is not None:
        return off
    ctx.step("核对省公司匹配结果 / checking the province's matching results")
    since = ctx.today - timedelta(weeks=6)  # older batches are long settled one way or another
    with Session(ctx.engine) as session:
        matched = select(ProvinceMatch.run_id).distinct()
        agreement = (
            select(PlanLine.run_id)
            .where(PlanLine.kind == LineKind.AGREEMENT)
            .group_by(col(PlanLine.run_id))
            .having(func.count() > 0)
        )
        waiting = session.exec(
            select(PlanRun)
            .where(
                PlanRun.status == RunStatus.APPROVED,
                col(PlanRun.province_match_on) <= ctx.today,
                col(PlanRun.province_match_on) >= since,
                col(PlanRun.id).not_in(matched),
                col(PlanRun.id).in_(agreement),
            )
            .order_by(col(PlanRun.province_match_on))
        ).all()
        planners = people_with_roles(session, [Role.PLANNER])
    pairs = []
    for run in waiting:
        pairs += to_each(
            planners,
            Reminder(
                kind="plan.province",
                key=f"plan.province:{run.batch_id}",
                title=f"批次 {run.batch_id} 的省公司匹配结果尚未导入（应于 {run.province_match_on} "
                f"返回）/ the province's result for {run.batch_id} is not imported (due "
                f"{run.province_match_on})",
                body=f"批次 {run.batch_id} 已批准（第 {run.id} 次运行），省公司集中匹配结果应于 "
                f"{run.province_match_on} 返回，尚未导入。/ Batch {run.batch_id} (run {run.id}) "
                f"is approved; the province's matching was due back on {run.province_match_on} "
                f"and is not imported. 导入: gridsupply plan import-match {run.batch_id} FILE",
                link="/weekly",
            ),
        )
    told, mailed = ctx.tell(pairs)
    batches = [run.batch_id for run in waiting]
    return JobOutcome(
        f"{len(batches)} 个批次的省公司匹配结果未导入；新提醒 {told} 条 / {len(batches)} batches "
        f"without the province's result; {told} new reminders ({mailed} e-mailed)",
        {"batches": batches, "notified": told, "emailed": mailed},
    )

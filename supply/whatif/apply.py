"""Applying a what-if's changes to a base matching problem. Pure: plain data in and out.

The base is a `MatchingProblem` (an instance and the refs telling what each source is); the
`World` is what the changes are checked against and new sources are made from (the catalogs as
the database holds them now, read by the caller). Extra projects are added first, then every
other change in its order. Each change says what it did (`Effect`: the sources it touched, each
with what changed, or why it changed nothing); a change naming what does not exist is a problem,
and every problem is raised at once (`ImportRejected`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from optimizer.contract import Demand, Source, Transport, trusted
from supply.core.errors import RowProblem
from supply.emergency import emergency_materials
from supply.labels import kind_label
from supply.planning import HEAVY, DemandItem, MatchingProblem, SourceRef, build_instance
from supply.whatif.changes import (
    SHEET_EN,
    SHEET_ZH,
    AgreementExhausted,
    AgreementExpired,
    ExtraProjects,
    Located,
    QuotaChange,
    StockChange,
    SupplierDelay,
    TransportDays,
    WarehouseClosed,
    describe,
    rejected,
)
from supply.whatif.projects import Arrivals
from supply.whatif.sheet import column_of
from supply.whatif.world import Effect, World, complete_transport, place_of

SHOWN = 8  # names listed in a message ("the suppliers are: …")


@dataclass
class Applied:
    """The problem with the changes applied, and what each change did."""

    problem: MatchingProblem
    effects: list[Effect]


def apply_changes(
    base: MatchingProblem,
    changes: Sequence[Located],
    world: World,
    arrivals: Mapping[int, Arrivals] | None = None,
) -> Applied:
    """Apply `changes` to `base` (which is left as it is); `arrivals` are the extra projects'
    demand lines by the change's place in `changes`. Raises `ImportRejected` naming every change
    that names what is not there."""
    return _Applier(base, world).run(changes, arrivals or {})


def _day(value: date) -> str:
    return value.isoformat()


class _Applier:
    """The instance being changed, as mutable maps, and the problems found so far."""

    def __init__(self, base: MatchingProblem, world: World) -> None:
        instance = base.instance
        self.world = world
        self.supply = world.supply
        self.sources: dict[str, Source] = {s.id: s for s in instance.sources}
        self.refs: dict[str, SourceRef] = dict(base.sources)
        self.demands: list[Demand] = list(instance.demands)
        self.items: dict[str, DemandItem] = dict(base.demands)
        self.transport: dict[tuple[str, str], int] = {
            (t.from_, t.to): t.days for t in instance.transport
        }
        self.overrides: dict[tuple[str, str], int] = {}  # transport days a change set
        self.quotas: dict[tuple[str, str], int] = {}  # quotas a change set
        self.closed: dict[str, int] = {}  # warehouse → the change that closed it
        self.base = base
        self.problems: list[RowProblem] = []
        self.located: Located | None = None

    # -------------------------------------------------------------- helpers

    def problem(self, name: str, zh: str, en: str) -> None:
        located = self.located
        assert located is not None
        if located.sheet:
            column = column_of(name)
            self.problems.append(
                RowProblem(
                    located.row,
                    column.zh if column else "",
                    column.en if column else "",
                    zh,
                    en,
                    SHEET_ZH,
                    SHEET_EN,
                )
            )
        else:
            self.problems.append(RowProblem(located.row, name, name, zh, en, SHEET_ZH, SHEET_EN))

    def heavy(self, material: str) -> bool:
        found = self.supply.materials.get(material)
        return found.heavy if found is not None else False

    def place(self, location: str, material: str) -> str:
        return location + HEAVY if self.heavy(material) else location

    def wanted(self) -> set[str]:
        return {d.material for d in self.demands}

    def warehouse_known(self, warehouse: str, name: str = "warehouse") -> bool:
        if warehouse in self.supply.warehouse_location:
            if warehouse in self.closed:
                self.problem(
                    name,
                    f"仓库 {warehouse} 已由第 {self.closed[warehouse]} 项变更关闭",
                    f"warehouse {warehouse} is closed by change {self.closed[warehouse]}",
                )
                return False
            return True
        known = ", ".join(sorted(self.supply.warehouse_location)[:SHOWN])
        self.problem(
            name,
            f"没有仓库 {warehouse}（仓库有：{known}…）",
            f"no warehouse {warehouse} (warehouses: {known}…)",
        )
        return False

    def material_known(self, material: str) -> bool:
        if material in self.supply.materials:
            return True
        self.problem(
            "material",
            f"物料 {material} 不在物料主数据中",
            f"material {material} is not in the material master",
        )
        return False

    def set_source(
        self, source_id: str, effect: Effect, zh: str, en: str, **update: object
    ) -> None:
        self.sources[source_id] = self.sources[source_id].model_copy(update=update)
        kind = self.refs[source_id].kind
        effect.sources[source_id] = (
            f"{kind_label(kind)} {source_id} {zh}",
            f"{kind} {source_id} {en}",
        )

    def drop_source(self, source_id: str, effect: Effect, zh: str, en: str) -> None:
        kind = self.refs[source_id].kind
        effect.sources[source_id] = (
            f"{kind_label(kind)} {source_id} {zh}",
            f"{kind} {source_id} {en}",
        )
        del self.sources[source_id]

    # -------------------------------------------------------------- the run

    def run(self, changes: Sequence[Located], arrivals: Mapping[int, Arrivals]) -> Applied:
        effects: dict[int, Effect] = {}
        order = [i for i, c in enumerate(changes) if isinstance(c.change, ExtraProjects)]
        order += [i for i, c in enumerate(changes) if not isinstance(c.change, ExtraProjects)]
        for index in order:
            located = changes[index]
            self.located = located
            zh, en = describe(located.change)
            effect = Effect(number=index + 1, zh=zh, en=en)
            self.apply(located.change, effect, arrivals.get(index))
            if not effect.sources and not effect.added and not effect.idle_zh:
                effect.idle_zh, effect.idle_en = "未改变基准实例", "it changes nothing in the base"
            effects[index] = effect
        if self.problems:
            raise rejected(self.problems)
        complete_transport(
            self.transport,
            {**self.supply.transport, **self.overrides},
            froms={s.location for s in self.sources.values()},
            tos={d.location for d in self.demands},
        )
        instance = self.base.instance.model_copy(
            update={
                "demands": self.demands,
                "sources": list(self.sources.values()),
                "transport": [
                    Transport.model_construct(from_=a, to=b, days=d)
                    for (a, b), d in sorted(self.transport.items())
                ],
            }
        )
        refs = {k: v for k, v in self.refs.items() if k in self.sources}
        return Applied(
            MatchingProblem(instance=instance, demands=self.items, sources=refs),
            [effects[i] for i in sorted(effects)],
        )

    def apply(self, change: object, effect: Effect, arrived: Arrivals | None) -> None:
        match change:
            case ExtraProjects():
                if arrived is not None:  # None: refused when checked (its problems are named)
                    self.extra_projects(arrived, effect)
            case SupplierDelay():
                self.supplier_delay(change, effect)
            case AgreementExpired() | AgreementExhausted():
                self.agreement(change, effect)
            case StockChange():
                self.stock_change(change, effect)
            case QuotaChange():
                self.quota_change(change, effect)
            case WarehouseClosed():
                self.warehouse_closed(change, effect)
            case TransportDays():
                self.transport_days(change, effect)

    # -------------------------------------------------------------- the kinds

    def extra_projects(self, arrived: Arrivals, effect: Effect) -> None:
        clashes = [item.key for item in arrived.items if item.key in self.items]
        if clashes:
            self.problem(
                "projects",
                f"需求行 {', '.join(clashes[:SHOWN])} 已在基准中；新增项目请用新的项目编号",
                f"lines {', '.join(clashes[:SHOWN])} are in the base already; give the extra "
                "projects new ids",
            )
            return
        had = self.wanted()
        fresh = [item for item in arrived.items if item.material not in had]
        if fresh:  # materials the base has no sources of: their sources as a weekly run makes them
            made = build_instance(
                demands=fresh,
                supply=self.supply,
                plan_date=self.world.plan_date,
                order_day=self.world.order_day,
                penalty=self.world.penalty,
                emergency_for=emergency_materials(
                    {item.material for item in fresh},
                    self.world.catalogued,
                    for_catalog_materials=self.world.emergency_for_catalog_materials,
                ),
            )
            for source in made.instance.sources:
                self.sources.setdefault(source.id, source)
            for key, ref in made.sources.items():
                self.refs.setdefault(key, ref)
        for item in arrived.items:
            self.items[item.key] = item
            self.demands.append(
                trusted(
                    Demand,
                    {
                        "id": item.key,
                        "project": item.project_id,
                        "material": item.material,
                        "quantity": item.quantity,
                        "need_by": item.need_by,
                        "voltage_class": item.voltage_class,
                        "location": self.place(item.location, item.material),
                        "weight": item.weight,
                        "package": item.package,
                    },
                )
            )
        effect.added = frozenset(item.key for item in arrived.items)

    def supplier_delay(self, change: SupplierDelay, effect: Effect) -> None:
        if change.material is not None and not self.material_known(change.material):
            return
        hit = [
            source_id
            for source_id, ref in self.refs.items()
            if source_id in self.sources
            and ref.kind == "agreement"
            and ref.supplier == change.supplier
            and change.material in (None, ref.material)
        ]
        if not hit:
            catalog = {line.supplier for line in self.world.agreement_lines.values()}
            if change.supplier in catalog:
                effect.idle_zh = "该供应商的协议行不在基准实例中（无剩余数量或无人需要）"
                effect.idle_en = "none of the supplier's agreement lines is in the base"
                return
            named = "、".join(sorted(catalog)[:SHOWN])
            self.problem(
                "supplier",
                f"协议库存中没有供应商 {change.supplier}（供应商有：{named}…）",
                f"no agreement line of supplier {change.supplier} (suppliers: {named}…)",
            )
            return
        for source_id in hit:
            ready = self.sources[source_id].ready
            later = ready + timedelta(days=change.days)
            self.set_source(
                source_id,
                effect,
                f"可供日期 {_day(ready)} → {_day(later)}",
                f"ready {_day(ready)} → {_day(later)}",
                ready=later,
            )

    def agreement(self, change: AgreementExpired | AgreementExhausted, effect: Effect) -> None:
        source_id = f"A:{change.agreement}"
        if source_id not in self.sources:
            if change.agreement in self.world.agreement_lines:
                effect.idle_zh = "该协议行不在基准实例中（无剩余数量、不在有效期，或无人需要）"
                effect.idle_en = (
                    "the line is not in the base (nothing left, not valid, or nobody needs it)"
                )
            else:
                self.problem(
                    "agreement",
                    f"没有协议行 {change.agreement}（写作 协议编号/行号）",
                    f"no agreement line {change.agreement} (written number/line)",
                )
            return
        had = self.sources[source_id].quantity or 0
        if isinstance(change, AgreementExpired):
            self.drop_source(source_id, effect, f"失效（原可供 {had:g}）", f"gone ({had:g} left)")
            return
        if change.left >= had:
            self.problem(
                "left",
                f"协议行 {change.agreement} 在基准中只剩 {had:g}；用完后的剩余应小于此数",
                f"agreement line {change.agreement} has {had:g} left in the base; what is left "
                "once exhausted must be less",
            )
            return
        self.set_source(
            source_id,
            effect,
            f"可供数量 {had:g} → {change.left}",
            f"quantity {had:g} → {change.left}",
            quantity=change.left,
        )

    def stock_change(self, change: StockChange, effect: Effect) -> None:
        known = self.warehouse_known(change.warehouse) & self.material_known(change.material)
        if not known:
            return
        if change.quantity == 0:
            self.problem("quantity", "增减数量不能为 0", "must not be 0")
            return
        source_id = f"R:{change.warehouse}:{change.material}"
        if source_id in self.sources:
            had = int(self.sources[source_id].quantity or 0)
            now = had + change.quantity
            if now < 0:
                self.problem(
                    "quantity",
                    f"{change.warehouse} 在基准中只有 {had} 可用的 {change.material}",
                    f"{change.warehouse} has only {had} {change.material} available in the base",
                )
                return
            self.set_source(
                source_id, effect, f"数量 {had} → {now}", f"quantity {had} → {now}", quantity=now
            )
            return
        if change.quantity < 0:
            self.problem(
                "quantity",
                f"{change.warehouse} 在基准中没有可用的 {change.material}",
                f"{change.warehouse} has no {change.material} available in the base",
            )
            return
        if change.material not in self.wanted():
            effect.idle_zh = f"没有需求行需要 {change.material}"
            effect.idle_en = f"no line needs {change.material}"
            return
        key = (change.warehouse, change.material)
        quota = self.quotas.get(key)
        if quota is None:
            quota = next(
                (r.quota for r in self.supply.reserve if (r.warehouse_id, r.material) == key), 0
            )
        material = self.supply.materials[change.material]
        self.refs[source_id] = SourceRef(
            "reserve", change.material, change.warehouse, material.standard_price
        )
        self.sources[source_id] = Source.model_construct(
            id=source_id,
            kind="reserve",
            material=change.material,
            quantity=change.quantity,
            location=self.place(self.supply.warehouse_location[change.warehouse], change.material),
            ready=self.world.plan_date,
            unit_cost=float(material.standard_price),
            quota=quota,
        )
        effect.sources[source_id] = (
            f"实物储备 {source_id} 新增 {change.quantity}",
            f"reserve {source_id} added: {change.quantity}",
        )

    def quota_change(self, change: QuotaChange, effect: Effect) -> None:
        known = self.warehouse_known(change.warehouse) & self.material_known(change.material)
        if not known:
            return
        self.quotas[change.warehouse, change.material] = change.quota
        source_id = f"R:{change.warehouse}:{change.material}"
        if source_id not in self.sources:
            effect.idle_zh = f"基准中 {change.warehouse} 没有可用的 {change.material}，或无人需要"
            effect.idle_en = (
                f"{change.warehouse} has no {change.material} available in the base, or no line "
                "needs it"
            )
            return
        had = self.sources[source_id].quota
        self.set_source(
            source_id,
            effect,
            f"定额 {had:g} → {change.quota}",
            f"quota {had:g} → {change.quota}",
            quota=change.quota,
        )

    def warehouse_closed(self, change: WarehouseClosed, effect: Effect) -> None:
        warehouse = change.warehouse
        if not self.warehouse_known(warehouse):
            return
        central = self.supply.central_warehouse
        if warehouse == central:
            self.problem(
                "warehouse",
                f"{warehouse} 是中心库：紧急采购与协议库存默认在此交货，不能在假设中关闭",
                f"{warehouse} is the central warehouse, where emergency procurement and agreement "
                "deliveries arrive: it cannot be closed in a what-if",
            )
            return
        assert self.located is not None
        self.closed[warehouse] = self.located.row
        there = self.supply.warehouse_location[central]
        for source_id, ref in list(self.refs.items()):
            if source_id not in self.sources or ref.warehouse_id != warehouse:
                continue
            if ref.kind in ("reserve", "consignment"):
                self.drop_source(source_id, effect, "随仓库关闭不可用", "gone with the warehouse")
            elif ref.kind == "agreement":
                self.refs[source_id] = replace(ref, warehouse_id=central)
                self.set_source(
                    source_id,
                    effect,
                    f"改在中心库 {central} 交货",
                    f"delivered to the central warehouse {central} instead",
                    location=self.place(there, ref.material),
                )

    def transport_days(self, change: TransportDays, effect: Effect) -> None:
        start = self.place_of(change.from_, "from")
        end = self.place_of(change.to, "to")
        if start is None or end is None:
            return
        if start == end:
            self.problem(
                "to", "起点与终点是同一地点（同地不计运输天数）", "from and to are the same place"
            )
            return
        self.overrides[start, end] = change.days
        at = {s.location for s in self.sources.values()}
        to = {d.location for d in self.demands}
        touched = False
        for a, b, days in (
            (start, end, change.days),
            (start + HEAVY, end + HEAVY, change.days + 1),
        ):
            if a not in at or b not in to:
                continue
            had = self.transport.get((a, b))
            self.transport[a, b] = days
            touched = True
            for source in self.sources.values():
                if source.location == a:
                    effect.sources[source.id] = (
                        f"{start} → {end} 运输 {'—' if had is None else had} → {days} 天",
                        f"trip {start} → {end}: {'—' if had is None else had} → {days} days",
                    )
        if not touched:
            effect.idle_zh = f"基准中没有从 {start} 出发、运往 {end} 的需求"
            effect.idle_en = f"no source at {start} serves a line at {end} in the base"
            return
        effect.demands = frozenset(d.id for d in self.demands if d.location in (end, end + HEAVY))

    def place_of(self, name: str, field_name: str) -> str | None:
        """A warehouse id's place, or a place itself (one the catalogs or the base know)."""
        found = place_of(name, self.supply, {d.location for d in self.demands})
        if found is None:
            self.problem(field_name, f"没有仓库或地点 {name}", f"no warehouse or place {name}")
        return found

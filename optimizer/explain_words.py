"""The words of a late or unmet line's reason, in English and Chinese, from its facts alone.

`late_reasons` and `unmet_reasons` render the facts `optimizer.explain_facts` states, in English
(`reason`) and in the Chinese a materials planner reads (`reason_zh`). One pass over a line's
facts renders both languages: each piece is made in English and in Chinese side by side, so the
two always say the same facts in the same order, and the words of each language can be checked
against the facts (tests/optimizer/truth.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from optimizer.explain_facts import (
    SHOWN,
    STATUSES,
    LateFacts,
    Ref,
    SourceFact,
    UnmetFacts,
)

_KIND_WORD = {"emergency": "emergency procurement"}


class Reasons(NamedTuple):
    """A line's reason in English and in Chinese (the planner's words), from the same facts."""

    en: str
    zh: str


_KIND_ZH = {
    "reserve": "实物储备",
    "consignment": "供应商寄存",
    "agreement": "协议库存",
    "emergency": "紧急采购",
}
_NO_STOCK = ("has no stock", "无库存")
_COUNTED = {
    "used_up": ("used up", "已被占用"),
    "kept_for_quota": ("kept for its quota", "保留至定额"),
    "cheaper": ("passed over for a cheaper source", "因同日有更便宜的来源未用"),
    "floor": ("passed over for a source short of its floor", "因同日来源需达到下限未用"),
    "still_had": ("still had stock", "尚有库存"),
    "no_stock": ("had no stock", "无库存"),
}


def late_reasons(f: LateFacts, *, year: int) -> Reasons:
    """Say what would have been on time for a late line and why it was not used."""
    return ReasonWriter(year).late(f)


def unmet_reasons(f: UnmetFacts, *, year: int) -> Reasons:
    """Say why nothing more could be supplied to an unmet line."""
    return ReasonWriter(year).unmet(f)


class ReasonWriter:
    """Renders facts in both languages. What repeats from line to line of a plan is rendered
    once: a source's name, and who used a source up (a province plan says so 30,000 times,
    of 5,000 different groups of takers). Only strings are kept, by string keys, and a late
    reason is built by appending to two strings: containers that outlive a line would wake the
    garbage collector the more often, which then walks the whole heap (a full collection in
    the middle of a province plan's explanation costs 100-150 ms)."""

    __slots__ = ("_en_name", "_en_used_up", "_zh_name", "_zh_used_up", "day")

    def __init__(self, year: int) -> None:
        self.day = _days(year)
        self._en_name: dict[str, str] = {}  # by source id
        self._zh_name: dict[str, str] = {}
        self._en_used_up: dict[str, str] = {}  # by how many more and the takers' ids
        self._zh_used_up: dict[str, str] = {}

    def late(self, f: LateFacts) -> Reasons:
        day, names = self.day, self.names
        need_by = day(f.need_by)
        en, zh = f"needed by {need_by}", f"需到货 {need_by}"
        for s in f.on_time[:SHOWN]:
            did_en, did_zh = self.did(s)
            arrives = day(s.source.arrival)
            en_name, zh_name = names(s.source)
            en += f"; {en_name} (arrives {arrives}) {did_en}"
            zh += f"；{zh_name}（{arrives} 到货）{did_zh}"
            if s.own and not (s.status == "used_up" and not s.takers):  # not "all given to it"
                en += f" (this line got {s.own})"
                zh += f"（本行已取 {s.own}）"
        if len(f.on_time) > SHOWN:
            more_en, more_zh = _more(f.on_time[SHOWN:])
            en += "; " + more_en
            zh += "；" + more_zh
        if all(s.status == "no_stock" for s in f.on_time):
            if f.on_time:
                en += "; no eligible source with stock arrives by then"
                zh += "；按时到货的可用来源均无库存"
            else:
                en += "; no eligible source arrives by then"
                zh += "；没有可用来源能按时到货"
            if f.ruled_out:
                cannot_en, cannot_zh = _cannot_use(f.voltage_class, f.ruled_out)
                en += "; " + cannot_en
                zh += "；" + cannot_zh
        first = f.earliest_other
        if first is not None:
            arrives = day(first.source.arrival)
            en_name, zh_name = names(first.source)
            en += f"; earliest other source {en_name} arrives {arrives}"
            zh += f"；最早的其他来源为{zh_name}，{arrives} 到货"
            if not first.own:  # this line was served from it: nothing held it back
                did_en, did_zh = self.did(first)
                if first.status in ("cheaper", "floor"):
                    en += "; " + did_en
                    zh += "；" + did_zh
                else:
                    en += "; it " + did_en
                    zh += "；该来源" + did_zh
                    if f.served is not None:
                        arrives = day(f.served.arrival)
                        en_name, zh_name = names(f.served)
                        en += f"; served from {en_name} arriving {arrives}"
                        zh += f"；实际由{zh_name} 供货（{arrives} 到货）"
        return Reasons(en, zh)

    def unmet(self, f: UnmetFacts) -> Reasons:
        material = f.material
        if f.cause == "no_source" and not f.of_material:
            return Reasons(
                f"no eligible source: no source of {material} in the instance",
                f"无可用来源：本计划中没有 {material} 的任何来源",
            )
        en: list[str] = []
        zh: list[str] = []
        if f.cause == "no_source":
            en.append(f"no source of {material} has stock")
            zh.append(f"{material} 的所有来源均无库存")
        elif f.cause == "not_eligible":
            en.append("no eligible source" + (" has stock" if f.sources else ""))
            zh.append("可用来源均无库存" if f.sources else "无可用来源")
        elif all(s.status in ("used_up", "no_stock") for s in f.sources):
            en.append("every eligible source is used up")
            zh.append("所有可用来源均已用完")
        for s in f.sources:
            en_name, zh_name = self.names(s.source)
            if s.status == "used_up":
                if s.takers:
                    en_who, zh_who = self.who(s)
                    en.append(f"{en_name} ({s.stock}) went to {en_who}")
                    zh.append(f"{zh_name}（共 {s.stock}）已被 {zh_who}占用")
                else:
                    en.append(f"{en_name} ({s.stock}) went to this line")
                    zh.append(f"{zh_name}（共 {s.stock}）已全部供本行")
            else:
                did_en, did_zh = self.did(s)
                en.append(f"{en_name} {did_en}")
                zh.append(f"{zh_name} {did_zh}")
        if f.cause in ("used_up", "stock_left") and not any(
            s.source.kind == "emergency" for s in f.sources
        ):
            en.append(f"no emergency procurement source for {material}")
            zh.append(f"{material} 没有紧急采购来源")
        if f.ruled_out:
            cannot_en, cannot_zh = _cannot_use(f.voltage_class, f.ruled_out)
            en.append(cannot_en)
            zh.append(cannot_zh)
        if f.cause == "not_eligible" and not f.sources:  # "no eligible source: <why>"
            return Reasons(": ".join(en), "，".join(zh))
        return Reasons("; ".join(en), "；".join(zh))

    def did(self, s: SourceFact) -> tuple[str, str]:
        """What became of a source, as a predicate ("was used up by …", "已被…占用")."""
        status = s.status
        if status == "no_stock":
            return _NO_STOCK
        if status == "used_up":
            if not s.takers:
                return (
                    f"had only {s.stock}, all given to this line",
                    f"仅有 {s.stock}，已全部供本行",
                )
            return self.used_up(s)
        if status == "kept_for_quota":
            penalty = _money(s.penalty)
            return (
                f"was kept for its quota ({s.left} left, quota {s.quota}, "
                f"penalty {penalty} per unit drawn below it)",
                f"保留至定额（剩余 {s.left}，定额 {s.quota}，每低于定额一件罚 {penalty} 元）",
            )
        if status == "cheaper" and s.instead is not None:
            other, mine = _money(s.instead.unit_cost), _money(s.source.unit_cost)
            en_name, zh_name = self.names(s.instead)
            if s.instead.unit_cost < s.source.unit_cost:
                return (
                    f"{en_name} arrives the same day at a lower cost ({other} vs {mine} per "
                    "unit) and served this line",
                    f"{zh_name} 同日到货且单价更低（{other} 对 {mine} 元/单位），已供本行",
                )
            return (
                f"{en_name} arrives the same day at the same cost ({mine} per unit) "
                "and served this line",
                f"{zh_name} 同日到货且单价相同（{mine} 元/单位），已供本行",
            )
        if status == "floor" and s.instead is not None:
            return self.floor(s, s.instead)
        if s.left is None:
            return "still had stock (no limit)", "仍有库存（不限量）"
        return f"still had {s.left} left", f"尚余 {s.left} 未用"

    def floor(self, s: SourceFact, instead: Ref) -> tuple[str, str]:
        """Another source served the line the same day, toward its floor: "agreement A2 arrives
        the same day and served this line to bring its agreement line toward its execution
        band (floor 10, 6 used, penalty 20 per unit short)"."""
        en_name, zh_name = self.names(instead)
        numbers_en = f"floor {s.floor}, {s.floor_used} used, penalty {_money(s.floor_penalty)}"
        numbers_zh = (
            f"下限 {s.floor}，已用 {s.floor_used}，每少用一件罚 {_money(s.floor_penalty)} 元"
        )
        if instead.kind == "agreement":
            return (
                f"{en_name} arrives the same day and served this line to bring its agreement "
                f"line toward its execution band ({numbers_en} per unit short)",
                f"{zh_name} 同日到货，为使协议执行量达到下限已供本行（{numbers_zh}）",
            )
        return (
            f"{en_name} arrives the same day and served this line toward its floor "
            f"({numbers_en} per unit short)",
            f"{zh_name} 同日到货，为使用量达到下限已供本行（{numbers_zh}）",
        )

    def used_up(self, s: SourceFact) -> tuple[str, str]:
        """Say who used a source up: "was used up by D2 (…) and 3 more", "已被 D2（…）…占用"."""
        takers = s.takers
        # A taker's words follow from its id (weight and need-by are the demand's). Unless an
        # id holds the separator itself, the key names one group of takers.
        key = f"{s.more_takers}\x1f" + "\x1f".join([t.demand for t in takers])
        en = self._en_used_up.get(key)
        if en is None:
            en_who, zh_who = self.who(s)
            en, zh = f"was used up by {en_who}", f"已被 {zh_who}占用"
            if key.count("\x1f") == len(takers):
                self._en_used_up[key], self._zh_used_up[key] = en, zh
            return en, zh
        return en, self._zh_used_up[key]

    def who(self, s: SourceFact) -> tuple[str, str]:
        """The lines that took a source: "D2 (weight 2, need-by 12-04) and 3 more"."""
        en, zh = [], []
        for t in s.takers:
            need_by, weight = self.day(t.need_by), f"{t.weight:g}"
            en.append(f"{t.demand} (weight {weight}, need-by {need_by})")
            zh.append(f"{t.demand}（权重 {weight}，需到货 {need_by}）")
        more = s.more_takers
        if more > 0:
            en.append(f"{more} more")
            zh[-1] += f"及另外 {more} 项需求"
        return (
            en[0] if len(en) == 1 else ", ".join(en[:-1]) + " and " + en[-1],
            "、".join(zh),
        )

    def names(self, ref: Ref) -> tuple[str, str]:
        """A source as "kind id", in English and Chinese."""
        source = ref.source
        en = self._en_name.get(source)
        if en is None:
            kind = ref.kind
            en = self._en_name[source] = f"{_KIND_WORD.get(kind, kind)} {source}"
            self._zh_name[source] = f"{_KIND_ZH[kind]} {source}"
        return en, self._zh_name[source]


def _more(rest: Sequence[SourceFact]) -> tuple[str, str]:
    counts = Counter(s.status for s in rest)
    n = len(rest)
    sources = "source" if n == 1 else "sources"
    if set(counts) == {"used_up"}:
        return (
            f"{n} more on-time {sources} {'was' if n == 1 else 'were'} used up too",
            f"另有 {n} 项按时来源也已被占用",
        )
    each = [(counts[k], *_COUNTED[k]) for k in STATUSES if counts[k]]
    return (
        f"{n} more on-time {sources}: " + ", ".join(f"{c} {en}" for c, en, _ in each),
        f"另有 {n} 项按时来源：" + "，".join(f"{c} 项{zh}" for c, _, zh in each),
    )


def _cannot_use(voltage_class: str, ruled_out: Sequence[Ref]) -> tuple[str, str]:
    voltage = voltage_class.replace("kV", " kV")
    shown = ruled_out[:SHOWN]
    en_names = ", ".join(f"{r.kind} {r.source}" for r in shown)
    zh_names = "、".join(f"{_KIND_ZH[r.kind]} {r.source}" for r in shown)
    n = len(ruled_out) - SHOWN
    return (
        f"{voltage} demand cannot use {en_names}" + (f" and {n} more" if n > 0 else ""),
        f"电压等级不可用：{voltage} 项目不能使用{zh_names}" + (f"，另有 {n} 项" if n > 0 else ""),
    )


def _money(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


@lru_cache(maxsize=64)
def _days(year: int) -> Callable[[date | None], str]:
    """MM-DD within the plan's year, the full date outside it."""

    @lru_cache(maxsize=4096)
    def day(value: date | None) -> str:
        if value is None:
            return "?"
        return value.isoformat()[5:] if value.year == year else value.isoformat()

    return day

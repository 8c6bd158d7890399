"""The in-memory hot path: generated Python functions per event type.

The generic path (engine -> store.apply) walks lists of steps and reads, calls a method per
table and allocates tuples for every operation: about 10 µs an event for 20 features with a
warm cache. The budget is ~8 µs for the whole feature stage at 50,000 events/s, so for
MemoryStore the engine generates, once per event type, straight-line code: one lookup per key
fetches the key's row of states (keygroup.py), and the common case (the state's head bucket is
the event's bucket) is inline list arithmetic; everything else (new keys, moving a head, late
events) calls the same table methods the generic path uses. Too-late events go to the generic
path whole. About 3 µs an event with a warm cache. Each function reads exactly what the plan
says its type reads (the generic path uses the same Reading), since reads move heads too.

Two functions per type: an observer for any row (row.get; returns the values) and a writer
for the detection engine's full rows (row[name]; writes the values into the row, see
FeatureEngine.writer), which also tests each key once for all its steps and each row of states
once for all its reads.

Trade-off: generated code is harder to read than a loop, so it is kept to that one common case,
its source is available (`FastPath.source`) and the tests check it gives exactly the generic
path's values on disordered streams. No user text reaches the source: every name, field and
filter is passed in the namespace or embedded with repr().
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final

from abusedesk.detection.features.compiled import InlineFilter
from abusedesk.detection.features.memory import MemoryStore
from abusedesk.detection.features.plan import AGE, PLAIN, RATIO, SUM, Plan, Reading, Step
from abusedesk.detection.features.store import Read

Observe = Callable[[Mapping[str, Any]], dict[str, Any]]
Write = Callable[[dict[str, Any]], None]
# A read's value for a key that has no row of states, by value code.
_EMPTY: Final = {PLAIN: "0", SUM: "0.0", RATIO: "None", AGE: "None"}


class FastPath:
    def __init__(self, plan: Plan, store: MemoryStore, slow: Observe) -> None:
        self._plan = plan
        self._ns: dict[str, Any] = {
            "WM": store.watermark_cell,
            "LATE": store.lateness_s,
            "SLOW": slow,
            "NOTE": store.note_updates,
        }
        self._slots = [table.slot for table in store.tables]
        for i, table in enumerate(store.tables):
            self._ns[f"T{i}"] = table
        for g in range(len(plan.groups)):
            # bound once: a group never replaces its `rows` dict
            self._ns[f"R{g}"] = store.tables[self._table_of_group(g)].rows.get
        self._filters: dict[int, int] = {}
        self._inline: dict[tuple[str, bool], str] = {}
        self._shared: set[str] = set()  # filters used by several steps of the function built
        self._full = False  # building the full-row variant (see below)
        self._uses_get = False  # the function built calls `_get`
        # Every name a full-row function reads with row[name]: what a full row must hold.
        self.columns: set[str] = set()
        types = sorted({*plan.steps, *plan.reading})
        # Two functions per type: an observer for any row (row.get), returning the values,
        # and a writer for full rows, which hold every name of `columns` (None where absent)
        # as the detection engine builds them: it reads row[name] (a subscript costs a third
        # of a `get` call) and writes the values into the row.
        chunks = [
            self._function(f"_obs_{i}", plan.steps.get(t, ()), plan.reading_for(t))
            for i, t in enumerate(types)
        ]
        chunks.append(self._function("_obs_other", (), plan.other))
        self._full = True
        chunks += [
            self._writer(f"_write_{i}", plan.steps.get(t, ()), plan.reading_for(t))
            for i, t in enumerate(types)
        ]
        chunks.append(self._writer("_write_other", (), plan.other))
        self.source = "\n\n".join(chunks)
        exec(compile(self.source, "<abusedesk.features.fastpath>", "exec"), self._ns)  # noqa: S102 - generated from the plan only, see module docstring
        self.by_type: dict[str, Observe] = {t: self._ns[f"_obs_{i}"] for i, t in enumerate(types)}
        self.other: Observe = self._ns["_obs_other"]
        self.writers: dict[str, Write] = {t: self._ns[f"_write_{i}"] for i, t in enumerate(types)}
        self.writer_other: Write = self._ns["_write_other"]

    def _table_of_group(self, g: int) -> int:
        return next(t for t, spec in enumerate(self._plan.tables) if spec.group == g)

    def _function(self, name: str, steps: tuple[Step, ...], reading: Reading) -> str:
        self._uses_get = False
        lines = self._head(name, steps, reading, ["        return SLOW(row)"])
        if steps:
            lines.append("    nup = 0")
            # A filter shared by several features (the same function: DetectionEngine compiles
            # equal `where` texts once) runs at most once an event: f<i> holds its result.
            uses = Counter(self._filter(s.where) for s in steps if s.where is not None)
            self._shared = {name for name, n in uses.items() if n > 1}
            updates: list[str] = []
            for step in steps:
                updates += self._update(step)
            lines += [f"    {name.lower()} = None" for name in sorted(self._shared)]
            lines += [*updates, "    if nup:", "        NOTE(nup, wl)"]
        names = [name_ for name_, _, _ in reading.outputs]
        for j, (_, code, i) in enumerate(reading.outputs):
            lines += self._read(f"o{j}", code, reading.reads, i)
        for name_, num, den in reading.derived:
            n_, d_ = f"o{names.index(num)}", f"o{names.index(den)}"
            lines.append(f"    o{len(names)} = None if {n_} is None or not {d_} else {n_} / {d_}")
            names.append(name_)
        # A dict display with constant keys is built presized, unlike 20 single stores.
        items = ", ".join(f"{name_!r}: o{j}" for j, name_ in enumerate(names))
        lines.append(f"    return {{{items}}}")
        if self._uses_get:  # an inlined filter reads with `_get`
            lines.insert(1, "    _get = row.get")
        return "\n".join(lines)

    def _writer(self, name: str, steps: tuple[Step, ...], reading: Reading) -> str:
        """The full-row function of a type: the updates of _function, with each key group's
        steps under one test of its key, then the reads, per key group under one test of its
        row of states, and the values written into the row (in `names` order). Tables are
        independent, so neither grouping changes a value."""
        self._uses_get = False
        lines = self._head(
            name, steps, reading, ["        row.update(SLOW(row))", "        return"]
        )
        if steps:
            lines.append("    nup = 0")
            uses = Counter(self._filter(s.where) for s in steps if s.where is not None)
            self._shared = {name for name, n in uses.items() if n > 1}
            lines += [f"    {name.lower()} = None" for name in sorted(self._shared)]
            by_group: dict[int, list[Step]] = {}
            for step in steps:
                by_group.setdefault(step.group, []).append(step)
            for g, group_steps in by_group.items():
                lines.append(f"    if k{g} is not None:")
                for step in group_steps:
                    lines += ["    " + line for line in self._update(step, keyed=True)]
            lines += ["    if nup:", "        NOTE(nup, wl)"]
        names = [name_ for name_, _, _ in reading.outputs]
        by_group_reads: dict[int, list[tuple[int, int, int]]] = {}
        for j, (_, code, i) in enumerate(reading.outputs):
            by_group_reads.setdefault(reading.reads[i][1], []).append((j, code, i))
        for g, outputs in by_group_reads.items():
            lines.append(f"    if r{g} is not None:")
            for j, code, i in outputs:
                lines += ["    " + line for line in self._read_row(f"o{j}", code, reading.reads, i)]
            # A key without a row of states reads 0 (a sum 0.0; an age, a ratio None), a
            # row without the key None.
            lines.append(f"    elif k{g} is not None:")
            lines += [f"        o{j} = {_EMPTY[code]}" for j, code, _ in outputs]
            lines.append("    else:")
            lines += [f"        o{j} = None" for j, _, _ in outputs]
        for name_, num, den in reading.derived:
            n_, d_ = f"o{names.index(num)}", f"o{names.index(den)}"
            lines.append(f"    o{len(names)} = None if {n_} is None or not {d_} else {n_} / {d_}")
            names.append(name_)
        lines += [f"    row[{name_!r}] = o{j}" for j, name_ in enumerate(names)]
        if self._uses_get:
            lines.insert(1, "    _get = row.get")
        return "\n".join(lines)

    def _head(
        self, name: str, steps: tuple[Step, ...], reading: Reading, too_late: list[str]
    ) -> list[str]:
        """A function's start: the event's second, the watermark (too-late events go to the
        generic path, `too_late`), then its keys, bucket numbers and rows of states."""
        plan = self._plan
        lines = [
            f"def {name}(row):",
            "    ts = row['ts']",
            "    if ts.tzinfo is None:",
            "        raise ValueError('event ts must be timezone-aware (UTC)')",
            "    f = ts.timestamp()",
            "    sec = int(f)",
            "    if sec > f:",
            "        sec -= 1",
            "    wm = WM[0]",
            "    if sec > wm:",
            "        WM[0] = wm = sec",
            "    wl = wm - LATE",
            "    if sec < wl:",
            *too_late,
        ]
        # Only the key groups and bucket sizes this type updates or reads: with per-type reads
        # a delivery touches one of the playbook's nine groups, and a key costs a dict lookup.
        tables = [step.table for step in steps] + [t for t, _ in reading.reads]
        groups = sorted({plan.tables[t].group for t in tables})
        for g in groups:
            cols = plan.groups[g]
            if len(cols) == 1:
                lines.append(f"    k{g} = {self._column(cols[0])}")
            else:
                values = ", ".join(self._column(c) for c in cols)
                lines.append(f"    v = ({values})")
                lines.append(f"    k{g} = None if None in v else v")
        windows = [plan.tables[t] for t in tables if plan.tables[t].kind != "age"]
        for bucket_s in sorted({table.bucket_s for table in windows}):
            lines.append(f"    b{bucket_s} = sec // {bucket_s}")
        # One lookup per key: r<g> is the key's row of states, one slot per table.
        for g in groups:
            lines.append(f"    r{g} = None if k{g} is None else R{g}(k{g})")
        return lines

    def _column(self, column: str) -> str:
        """Python reading one of the row's columns in the function being built."""
        if self._full:
            self.columns.add(column)
            return f"row[{column!r}]"
        return f"row.get({column!r})"

    def _filter(self, fn: Any) -> str:
        index = self._filters.setdefault(id(fn), len(self._filters))
        name = f"F{index}"
        self._ns[name] = fn
        if isinstance(fn, InlineFilter) and (name, self._full) not in self._inline:
            # Its own expression in the generated code, its constants in the namespace (the
            # expression is the rule compiler's, from our templates, never user text).
            self._ns.update(fn.consts)
            if self._full and fn.full_expression is not None:
                self.columns.update(fn.columns)
                self._inline[name, True] = fn.full_expression
            else:
                self._inline[name, self._full] = fn.expression
        return name

    def _inline_call(self, name: str) -> str:
        """The filter's test in the function being built: inline, or a call."""
        inline = self._inline.get((name, self._full))
        if inline is None:
            return f"{name}(row)"
        if "_get(" in inline:
            self._uses_get = True
        return inline

    def _update(self, step: Step, *, keyed: bool = False) -> list[str]:
        """One step's update; `keyed`: its key is known not to be None (the caller tests it)."""
        table = self._plan.tables[step.table]
        t, k, b = step.table, f"k{step.group}", f"b{table.bucket_s}"
        # add() may have created the key's row: it is looked up again after that call.
        r, slot = f"r{step.group}", self._slots[step.table]
        tests = [] if keyed else [f"{k} is not None"]
        if step.where is not None:
            name = self._filter(step.where)
            call = self._inline_call(name)
            if name in self._shared:
                var = name.lower()
                tests.append(f"({var} if {var} is not None else ({var} := ({call}) is True))")
            elif call == f"{name}(row)":
                tests.append(f"{call} is True")  # a Filter: True, False or None
            else:
                tests.append(call)  # condition_source: true exactly when the condition is
        # Without a test, `if True:` keeps the body's indentation (CPython drops the test).
        lines = [f"    if {' and '.join(tests) or 'True'}:"]
        pad = "        "
        value = "1"
        if step.of is not None:
            lines += [f"        v = {self._column(step.of)}", "        if v is not None:"]
            pad, value = "            ", "v"
        if table.kind == "age":  # [first, last]: only a new key or an earlier ts needs add()
            return [
                *lines,
                f"{pad}st = {r} and {r}[{slot}]",
                f"{pad}if st is not None and st[0] <= sec:",
                f"{pad}    if sec > st[1]:",
                f"{pad}        st[1] = sec",
                f"{pad}else:",
                f"{pad}    T{t}.add({k}, sec, None, wl)",
                f"{pad}    {r} = R{step.group}({k})",
                f"{pad}nup += 1",
            ]
        lines += [f"{pad}st = {r} and {r}[{slot}]", f"{pad}if st is not None and st[0] == {b}:"]
        if table.kind == "window":
            lines += [f"{pad}    st[1] += {value}", f"{pad}    st[2] += {value}"]
        else:
            lines += [
                f"{pad}    s = st[1]",
                f"{pad}    if {value} not in s:",
                f"{pad}        s.add({value})",
                f"{pad}        c = st[2]",
                f"{pad}        c[{value}] = c.get({value}, 0) + 1",
            ]
        return [
            *lines,
            f"{pad}else:",
            f"{pad}    T{t}.add({k}, sec, {value}, wl)",
            f"{pad}    {r} = R{step.group}({k})",
            f"{pad}nup += 1",
        ]

    def _state(self, t: int, group: int, *, row_known: bool = False) -> str:
        """The table's state in its key's row of states; `row_known`: r<g> is not None."""
        slot = self._slots[t]
        return f"r{group}[{slot}]" if row_known else f"(r{group} and r{group}[{slot}])"

    def _read_expr(self, read: Read, *, row_known: bool = False) -> str:
        """Raw read of a table for its group's key (known not None), inline at the head."""
        t, group = read
        table = self._plan.tables[t]
        k, b = f"k{group}", f"b{table.bucket_s}"
        at_head = "st[1]" if table.kind == "window" else "len(st[2])"
        return (
            f"(0 if (st := {self._state(t, group, row_known=row_known)}) is None "
            f"else {at_head} if st[0] == {b} else T{t}.read({k}, sec, wl))"
        )

    def _read_row(self, var: str, code: int, reads: tuple[Read, ...], i: int) -> list[str]:
        """_read for a key whose row of states r<g> is known to exist."""
        t, group = reads[i]
        if code == AGE:
            return self._age(var, t, group, row_known=True)
        if code == RATIO:
            return [
                f"    num = {self._read_expr(reads[i], row_known=True)}",
                f"    den = {self._read_expr(reads[i + 1], row_known=True)}",
                f"    {var} = num / den if den else None",
            ]
        expr = self._read_expr(reads[i], row_known=True)
        return [f"    {var} = {f'float({expr})' if code == SUM else expr}"]

    def _age(self, var: str, t: int, group: int, *, row_known: bool = False) -> list[str]:
        """An age read: hours since the first-seen second, None before it or without one."""
        state = self._state(t, group, row_known=row_known)
        return [
            f"    first = None if (st := {state}) is None else st[0]",
            f"    {var} = (sec - first) / 3600 if first is not None and first <= sec else None",
        ]

    def _read(self, var: str, code: int, reads: tuple[Read, ...], i: int) -> list[str]:
        t, group = reads[i]
        k = f"k{group}"
        if code == AGE:
            return self._age(var, t, group)
        if code == RATIO:
            return [
                f"    if {k} is None:",
                f"        {var} = None",
                "    else:",
                f"        num = {self._read_expr(reads[i])}",
                f"        den = {self._read_expr(reads[i + 1])}",
                f"        {var} = num / den if den else None",
            ]
        expr = self._read_expr(reads[i])
        if code == SUM:
            expr = f"float({expr})"
        return [f"    {var} = None if {k} is None else {expr}"]

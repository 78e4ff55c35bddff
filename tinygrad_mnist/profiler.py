"""A per-op profiler: ``with tg.profile() as p: ...; print(p)``.

For every op type it counts the calls and adds up the time spent in forward and in backward
(on a GPU it synchronises around each op, so the times are real but the run is slower). The
table is sorted by total time: the first rows are where a training step spends its time.

Only ops (``Function`` forwards and backwards) are timed: the optimizer's update, data loading and
the graph walk's own bookkeeping run between them, so the table's total is less than the step's
wall time (time the whole step yourself to see the difference).
"""
from __future__ import annotations

import collections

from . import autograd


class profile:
    def __init__(self):
        self.stats = collections.defaultdict(lambda: [0, 0.0, 0, 0.0])  # op -> [n_fwd, s_fwd, n_bwd, s_bwd]

    def __enter__(self):
        autograd.add_observer(self)
        return self

    def __exit__(self, *exc):
        autograd.remove_observer(self)
        return False

    def on_forward(self, fn, seconds, outputs):
        row = self.stats[fn._op_name]
        row[0] += 1
        row[1] += seconds

    def on_backward(self, node, seconds, grads, input_grads):
        row = self.stats[node._op_name]
        row[2] += 1
        row[3] += seconds

    Row = collections.namedtuple("Row", "op calls backward_calls forward_ms backward_ms total_ms")

    def rows(self):
        """One ``Row(op, calls, backward_calls, forward_ms, backward_ms, total_ms)`` per op, slowest first.

        ``calls`` counts forwards, ``backward_calls`` backwards (fewer when some results needed no
        gradient; more than ``calls`` when the forward ran before the profiler started).
        """
        out = [self.Row(op, n_f, n_b, s_f * 1e3, s_b * 1e3, (s_f + s_b) * 1e3)
               for op, (n_f, s_f, n_b, s_b) in self.stats.items()]
        return sorted(out, key=lambda r: -r.total_ms)

    def calls(self, op):
        """How many times op ``op`` (a Function class name, e.g. "Conv2d") ran forward."""
        return self.stats[op][0] if op in self.stats else 0

    def total_ms(self):
        return sum(r.total_ms for r in self.rows())

    def __str__(self):
        rows = self.rows()
        total = self.total_ms() or 1.0
        width = max([16] + [len(r.op) + 2 for r in rows])
        head = (f"{'op':<{width}}{'calls':>7}{'bwd calls':>11}{'forward ms':>13}{'backward ms':>13}"
                f"{'total ms':>11}{'share':>8}")
        lines = [head, "-" * len(head)]
        for r in rows:
            lines.append(f"{r.op:<{width}}{r.calls:>7}{r.backward_calls:>11}{r.forward_ms:>13.3f}"
                         f"{r.backward_ms:>13.3f}{r.total_ms:>11.3f}{r.total_ms / total:>8.1%}")
        lines.append(f"{'total':<{width}}{sum(r.calls for r in rows):>7}{sum(r.backward_calls for r in rows):>11}"
                     f"{sum(r.forward_ms for r in rows):>13.3f}{sum(r.backward_ms for r in rows):>13.3f}"
                     f"{self.total_ms():>11.3f}")
        return "\n".join(lines)

    __repr__ = __str__

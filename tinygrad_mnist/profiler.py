"""A per-op profiler: ``with tg.profile() as p: ...; print(p)``.

For every op type it counts the calls and adds up the time spent in forward and in backward
(on a GPU it synchronises around each op, so the times are real but the run is slower). The
table is sorted by total time: the first rows are where a training step spends its time.
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

    def on_forward(self, fn, seconds):
        row = self.stats[type(fn).__name__]
        row[0] += 1
        row[1] += seconds

    def on_backward(self, node, seconds, grad, grads):
        row = self.stats[type(node).__name__]
        row[2] += 1
        row[3] += seconds

    def rows(self):
        """(op, calls, forward ms, backward ms, total ms), slowest first."""
        out = [(op, n_f, s_f * 1e3, s_b * 1e3, (s_f + s_b) * 1e3) for op, (n_f, s_f, n_b, s_b) in self.stats.items()]
        return sorted(out, key=lambda r: -r[4])

    def total_ms(self):
        return sum(r[4] for r in self.rows())

    def __str__(self):
        rows = self.rows()
        total = self.total_ms() or 1.0
        head = f"{'op':<16}{'calls':>8}{'forward ms':>13}{'backward ms':>13}{'total ms':>11}{'share':>8}"
        lines = [head, "-" * len(head)]
        for op, n, f, b, t in rows:
            lines.append(f"{op:<16}{n:>8}{f:>13.3f}{b:>13.3f}{t:>11.3f}{t / total:>8.1%}")
        lines.append(f"{'total':<16}{'':>8}{sum(r[2] for r in rows):>13.3f}{sum(r[3] for r in rows):>13.3f}{total:>11.3f}")
        return "\n".join(lines)

    __repr__ = __str__

"""tools/bench.py --thread-metric: the Thread-Metric suite (shell command `tm`,
rtos/bench/thread_metric.cpp) under `-icount shift=0,sleep=off`, where a
virtual second is 10^9 guest instructions, so every score repeats exactly.

Each test runs PERIODS periods of --period seconds in one boot; its score is
the events of all periods scaled to 5 virtual seconds, printed beside the
FreeRTOS figure measured on this machine the same way and the target.
"""
import re

PERIODS = 5
SCORE_SECONDS = 5

# FreeRTOS-Kernel (current, -O2, 1000 Hz tick) on the same QEMU 7.2 under
# -icount, events per 5 virtual seconds, riscv64 / aarch64 (issue 13).
FREERTOS = {
    'basic': {'riscv64': 487975, 'aarch64': 487934},
    'cooperative': {'riscv64': 37757593, 'aarch64': 44003809},
    'preemptive': {'riscv64': 13267790, 'aarch64': 12181695},
    'interrupt': {'riscv64': 22120808, 'aarch64': 19760346},
    'interrupt_preemption': {'riscv64': 9540654, 'aarch64': 8102702},
    'message': {'riscv64': 21510088, 'aarch64': 17765001},
    'synchronization': {'riscv64': 35456048, 'aarch64': 25769934},
    'memory': {'riscv64': 19302191, 'aarch64': 17854848},
}
# The target is 1.25x FreeRTOS; basic processing measures the compiler and
# the CPU, not the kernel: it should match.
FACTOR = {'basic': 1.0}
DEFAULT_FACTOR = 1.25

LIST_RE = re.compile(r'^  (\w+)\s')
PERIOD_RE = re.compile(r'^tm: (\w+) period (\d+) (\d+)$')
SCORE_RE = re.compile(r'^tm: (\w+) score (\d+) per 5 s \(total (\d+) in (\d+) ms\)$')
FAILED_RE = re.compile(r'^tm: (\w+) failed \((.*)\)$')


def target(name, arch):
    base = FREERTOS.get(name, {}).get(arch)
    return round(base * FACTOR.get(name, DEFAULT_FACTOR)) if base else None


def verdict(name, score, tgt):
    """'' when the target holds; basic processing must match (within 1 %)."""
    if not tgt:
        return ''
    if name in FACTOR:
        return 'matches' if abs(score / tgt - 1) <= 0.01 else 'DIFFERS'
    return 'met' if score >= tgt else 'MISSES'


def parse(output):
    """`tm <test>` output -> {'periods': [...], 'score': n, 'total': n, 'ms': n} or a failure."""
    periods, res = [], {}
    for line in output.splitlines():
        line = line.strip()
        if m := PERIOD_RE.match(line):
            periods.append(int(m.group(3)))
        elif m := SCORE_RE.match(line):
            res.update(score=int(m.group(2)), total=int(m.group(3)), ms=int(m.group(4)))
        elif m := FAILED_RE.match(line):
            res['failed'] = m.group(2)
    res['periods'] = periods
    return res


def run(session, a, arch, error):
    """Runs the selected tests in a booted guest (`session`, at its prompt).

    Returns {name: result}; `error` is the exception class for a broken run.
    """
    listed = [m.group(1) for line in session.run('tm -l', 'the Thread-Metric list').splitlines()
              if (m := LIST_RE.match(line))]
    if not listed:
        raise error('`tm -l` listed no tests: build with CONFIG_RTOS_THREAD_METRIC=y')
    selected = [n for n in listed if not a.only or a.only in n]
    if not selected:
        raise error(f'no Thread-Metric test name contains {a.only!r}; there are: '
                    + ', '.join(listed))
    period_ms = round(a.period * 1000)
    results = {}
    for name in selected:
        print(f'tm {name}: {PERIODS} x {a.period:g} virtual s ...', end='', flush=True,
              file=a.progress)
        out = session.run(f'tm {name} {period_ms} {PERIODS}', f'Thread-Metric {name}')
        r = parse(out)
        if 'score' not in r and 'failed' not in r:
            r['failed'] = 'no score line'
        results[name] = r
        print(f" {r.get('score', 'FAILED')}", file=a.progress, flush=True)
    return {'order': selected, 'period_s': a.period, 'periods': PERIODS, 'results': results}


def print_table(tm, arch):
    print(f"Thread-Metric, events per {SCORE_SECONDS} virtual s ({tm['periods']} periods of "
          f"{tm['period_s']:g} s); target = 1.25x FreeRTOS (basic: 1x)")
    print(f"{'test':<22} {'Tern':>12} {'FreeRTOS':>12} {'x FreeRTOS':>10} {'target':>12} "
          f"{'x target':>9}")
    for name in tm['order']:
        r = tm['results'][name]
        free, tgt = FREERTOS.get(name, {}).get(arch), target(name, arch)
        if 'score' not in r:
            print(f"{name:<22} {'FAILED':>12}  ({r.get('failed', '?')})")
            continue
        s = r['score']
        print(f"{name:<22} {s:>12,} {free or 0:>12,} {s / free if free else 0:>10.2f} "
              f"{tgt or 0:>12,} {s / tgt if tgt else 0:>9.2f}  {verdict(name, s, tgt)}")


def print_comparison(new, old):
    """new/old score ratios of two Thread-Metric runs (above 1: more events)."""
    print(f"\nThread-Metric new/old; above 1.000 is more events")
    print(f"{'test':<22} {'old':>12} {'new':>12} {'new/old':>8}")
    for name in new['order']:
        n, o = new['results'][name].get('score'), old['results'].get(name, {}).get('score')
        ratio = f'{n / o:8.3f}' if n and o else f"{'n/a':>8}"
        print(f"{name:<22} {o or '-':>12} {n or '-':>12} {ratio}")


def failed(tm):
    return [n for n, r in tm['results'].items() if 'score' not in r]

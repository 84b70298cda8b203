"""The regression gate of tools/bench.py: a committed baseline per board
(tools/bench-baseline/<bsp>.json) of the figures that repeat under -icount,
and the check the test suite runs (tests/system/test_bench.py).

- `bench` figures (instructions per operation, kernel and per block
  request): the check fails when the cheapest run of a benchmark (its
  `min`: noise only ever adds instructions) costs more than TOLERANCE over
  its baseline, the highest such figure of BENCH_RUNS runs. Most repeat to
  the instruction; `tick` (riscv64: a counter step is 100 instructions,
  its median moves by up to 4 %) and the block requests (races with QEMU's
  I/O threads) move a little from run to run, so the baseline is their
  worst normal value, and a check that boots measures a figure over the
  tolerance again (RETRIES times) before it calls it a regression.
- Thread-Metric scores (events per 5 virtual s, at PERIOD_S periods): the
  check fails when a score falls more than TOLERANCE below its baseline.

The figures are made with fixed options (below), so a check compares like
with like. A change that costs instructions on purpose updates the
baseline with UPDATE_COMMAND and commits it with the change.
"""
import datetime
import json
import os

from . import thread_metric

TOLERANCE = 0.02
# The options of every baseline run: what test_bench.py runs.
VIRTIO = 'modern'
DISK_SIZE_MIB = 1
BENCH_RUNS = 3
RETRIES = 2  # a figure over the tolerance is measured again this often (bench.py)
PERIOD_S = 0.02  # Thread-Metric: short periods, the same scores per 5 s to within 0.1 %
DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench-baseline')
UPDATE_COMMAND = ('scons BSP=qemu-virt64-riscv -j2 && scons BSP=qemu-virt64-aarch64 -j2 && '
                  'tools/bench.py --update-baseline')


def path(bsp):
    return os.path.join(DIR, bsp + '.json')


def make(benches, tm, git):
    """The baseline record from `bench` runs (each figure: its highest
    median) and a Thread-Metric run."""
    bench = benches[0]
    return {
        'bsp': bench['bsp'],
        'git': git,
        'date': datetime.date.today().isoformat(),
        'options': {'virtio': VIRTIO, 'disk_size_mib': DISK_SIZE_MIB, 'tm_period_s': PERIOD_S,
                    'icount': bench['icount']},
        'update_with': UPDATE_COMMAND,
        'bench_runs': len(benches),
        'bench': {n: max(b['results'][n]['min'] for b in benches) for n in bench['results']},
        'thread_metric': {n: r['score'] for n, r in tm['results'].items() if 'score' in r},
    }


def write(record):
    os.makedirs(DIR, exist_ok=True)
    with open(path(record['bsp']), 'w') as f:
        json.dump(record, f, indent=2)
        f.write('\n')


def load(bsp):
    with open(path(bsp)) as f:
        return json.load(f)


def regressed(data, base):
    """The `bench` results of a run that are over the tolerance."""
    return [n for n, old in base['bench'].items()
            if n in data.get('results', {}) and data['results'][n]['min'] > old * (1 + TOLERANCE)]


def check(data, base):
    """Compares a run (bench.py's data: `bench` results and/or
    'thread_metric') with the baseline; prints one line per figure and
    returns the list of regressions (empty: the gate passes)."""
    bad = []
    print(f"\nregression gate: against {os.path.relpath(path(base['bsp']))} "
          f"(git {base.get('git') or '?'}, {base.get('date', '?')}), tolerance "
          f"{TOLERANCE:.0%}")
    results = data.get('results') or {}
    if results or data.get('failed'):
        for name, old in base['bench'].items():
            new = results.get(name)
            if new is None:
                why = data.get('failed', {}).get(name) or data.get('skipped', {}).get(name)
                bad.append(f'{name}: no result ({why or "not run"})')
                continue
            ratio = new['min'] / old
            flag = ratio > 1 + TOLERANCE
            print(f"  {name:<22} {old:>10.1f} -> {new['min']:>10.1f} insn/op (min) "
                  f"{ratio:7.3f}{'  REGRESSION' if flag else ''}")
            if flag:
                bad.append(f"{name}: {new['min']:.1f} insn/op at best, {ratio:.3f}x the "
                           f"baseline's {old:.1f} (more than +{TOLERANCE:.0%})")
        for name in results:
            if name not in base['bench']:
                print(f'  {name:<22} not in the baseline (update it to gate it)')
    if tm := data.get('thread_metric'):
        if tm['period_s'] != base['options']['tm_period_s']:
            bad.append(f"Thread-Metric ran with --period {tm['period_s']:g}, the baseline "
                       f"with {base['options']['tm_period_s']:g}")
        for name, old in base['thread_metric'].items():
            r = tm['results'].get(name)
            if r is None:
                continue  # not selected (--only)
            if 'score' not in r:
                bad.append(f"Thread-Metric {name}: failed ({r.get('failed', '?')})")
                continue
            ratio = r['score'] / old
            flag = ratio < 1 - TOLERANCE
            print(f"  tm {name:<19} {old:>12,} -> {r['score']:>12,} per 5 s {ratio:7.3f}"
                  f"{'  REGRESSION' if flag else ''}")
            if flag:
                bad.append(f"Thread-Metric {name}: {r['score']:,} per 5 s, {ratio:.3f}x the "
                           f"baseline's {old:,} (more than -{TOLERANCE:.0%})")
    if bad:
        print('regression gate FAILED:\n  ' + '\n  '.join(bad))
        print('If the change costs this on purpose, update the baseline and commit it with '
              f'the change:\n  {UPDATE_COMMAND}\n(tools/bench-baseline/*.json; docs/benchmarks.md, '
              '"Regression gate").')
    else:
        print('regression gate passed')
    return bad

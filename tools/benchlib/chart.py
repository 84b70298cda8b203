"""tools/bench.py --chart FILE.png: a bar chart of a run (instructions per
operation, or Thread-Metric scores against FreeRTOS) or of a --compare
(new/old ratios). Needs matplotlib (Debian python3-matplotlib, in
tools/setup.sh's test group); without it the run still prints and writes
its JSON, and says what to install."""
from . import thread_metric

MISSING = ('--chart needs matplotlib: apt-get install python3-matplotlib '
           '(or tools/setup.sh test); the results above are complete without it')


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use('Agg')  # files only, no display
    import matplotlib.pyplot as plt
    return plt


def _title(data):
    return (f"{data.get('bsp', '?')} (git {data.get('git') or '?'}, "
            f"-icount {data.get('icount', '?')})")


def _bars(plt, path, names, values, xlabel, title, line=None, line_label=None, log=False,
          labels=None):
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2), dpi=80)
    y = range(len(names))
    ax.barh(y, values, color='#4878a8')
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    if log:
        ax.set_xscale('log')
    if line is not None:
        ax.axvline(line, color='#c03030', linestyle='--', linewidth=1, label=line_label)
        ax.legend(loc='best', fontsize=8)
    for i, v in enumerate(values):
        ax.text(v, i, ' ' + (labels[i] if labels else f'{v:g}'), va='center', fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.margins(x=0.15)
    fig.tight_layout()
    fig.savefig(path, metadata={'Software': None})
    plt.close(fig)


def write(path, data, old=None):
    """Writes the chart; returns None, or why it could not."""
    plt = _pyplot()
    if plt is None:
        return MISSING
    if tm := data.get('thread_metric'):
        arch = data['arch']
        names = [n for n in tm['order'] if 'score' in tm['results'][n]
                 and thread_metric.FREERTOS.get(n, {}).get(arch)]
        ratios = [tm['results'][n]['score'] / thread_metric.FREERTOS[n][arch] for n in names]
        _bars(plt, path, names, ratios, 'score / FreeRTOS (events per 5 virtual s)',
              f"Thread-Metric, {_title(data)}", line=thread_metric.DEFAULT_FACTOR,
              line_label='target 1.25x (basic: 1x)', labels=[f'{r:.2f}x' for r in ratios])
        return None
    if old:
        names = [n for n in (data.get('order') or sorted(data['results']))
                 if n in data['results'] and n in old['results']]
        ratios = [data['results'][n]['insn_per_op'] / old['results'][n]['insn_per_op']
                  for n in names]
        _bars(plt, path, names, ratios, 'new / old instructions per operation (below 1: fewer)',
              f"{_title(data)} vs git {old.get('git') or '?'}", line=1.0, line_label='no change',
              labels=[f'{r:.3f}' for r in ratios])
        return None
    names = [n for n in (data.get('order') or sorted(data['results'])) if n in data['results']]
    if not names:
        return 'nothing to chart (no results)'
    values = [data['results'][n]['insn_per_op'] for n in names]
    _bars(plt, path, names, values, 'instructions per operation (median; log scale)',
          _title(data), log=True)
    return None

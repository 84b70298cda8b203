"""Test order and xdist scheduling (a pytest plugin, loaded by conftest.py):
the longest tests start first and the workers finish together.

Each test's duration is measured in every run and kept in
build/test-results/durations.json (merged: a partial run updates only the
tests it ran). Tests are ordered longest first by it; before the first run
has measured anything, LONG_TESTS stand in.

xdist's own load scheduler sends tests in chunks, so the longest ones can
queue behind each other on one worker while the other idles at the end.
This one keeps two tests on each worker (the running one and the next: a
worker starts a test only when it knows the next one) and picks each next
test by when the worker will be free: the longest remaining one for the
worker that frees first, the shortest for the other.
"""
import json
import os
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATIONS = os.path.join(ROOT, 'build', 'test-results', 'durations.json')
# Seconds, for tests no run has measured yet (by node id prefix): a fresh
# clone's run, warm ccache, on a loaded 2-core machine (issue 18).
LONG_TESTS = {
    'system/test_matrix.py::': 330,
    'system/test_soak.py::': 200,
    'system/test_hostile_ubsan.py::test_every_command_with_bad_arguments': 110,
    'system/test_config.py::test_each_bool_flipped_builds': 190,
    'test_host_unit.py::test_host_unit_tests': 50,
    'system/test_format.py::test_cppcheck_clean': 21,
    'system/test_build.py::test_fragments_merge_in_order': 17,
    'system/test_app.py::test_hello_from_a_copy_builds_and_runs': 11,
    'system/test_build.py::test_outputs_in_build_folder_only': 12,
    'system/test_build.py::test_cross_compile_override_and_clean': 10,
}
UNKNOWN = 5.0


def _measured():
    try:
        with open(DURATIONS) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def estimate(nodeid, measured):
    if nodeid in measured:
        return measured[nodeid]
    return next((s for prefix, s in LONG_TESTS.items() if nodeid.startswith(prefix)), UNKNOWN)


def pytest_collection_modifyitems(items):
    measured = _measured()
    items.sort(key=lambda item: -estimate(item.nodeid, measured))


_durations = {}


def pytest_runtest_logreport(report):
    # In the controller this sees every worker's reports.
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if hasattr(session.config, 'workerinput') or not _durations:
        return  # an xdist worker: the controller writes the file
    measured = _measured()
    measured.update({k: round(v, 2) for k, v in _durations.items()})
    os.makedirs(os.path.dirname(DURATIONS), exist_ok=True)
    with open(DURATIONS + '.tmp', 'w') as f:
        json.dump(measured, f, indent=0, sort_keys=True)
    os.replace(DURATIONS + '.tmp', DURATIONS)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScheduling

    class LongestFirst(LoadScheduling):
        def schedule(self):
            collection = list(self.node2collection.values())[0]
            if self.collection is not None or len(collection) < 2 * len(self.nodes) \
                    or not self._check_nodes_have_same_collection():
                return super().schedule()  # (a few tests: xdist sends them all at once)
            self.collection = collection
            self.pending[:] = range(len(collection))  # collection order: longest first
            measured = _measured()
            self.estimates = [estimate(nodeid, measured) for nodeid in self.collection]
            self.started = {}
            for node in self.nodes:
                self._send(node, 0)
                self.started[node] = time.monotonic()
            for node in self.nodes:
                self._send_next(node)

        def check_schedule(self, node, duration=0):
            if node.shutting_down:
                return
            if not self.pending:
                node.shutdown()
            elif len(self.node2pending[node]) < 2:
                self.started[node] = time.monotonic()  # its next test starts now
                self._send_next(node)

        def _free_at(self, node):
            """When the node can start a test sent to it now (after its
            running test and its next one)."""
            queue = self.node2pending[node]
            if not queue:
                return time.monotonic()
            running = max(0.0, self.estimates[queue[0]] - (time.monotonic() - self.started[node]))
            return time.monotonic() + running + sum(self.estimates[i] for i in queue[1:])

        def _send_next(self, node):
            others = [self._free_at(n) for n in self.nodes if n is not node]
            first = not others or self._free_at(node) <= min(others)
            self._send(node, 0 if first else len(self.pending) - 1)

        def _send(self, node, position):
            index = self.pending.pop(position)
            self.node2pending[node].append(index)
            node.send_runtest_some([index])

    return LongestFirst(config, log)

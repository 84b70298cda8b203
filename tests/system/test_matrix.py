"""The CI build matrix (tools/build_matrix.py): every board with the default
configuration, every fragment under tests/configs/ (but the bad-*.conf ones)
and every example's fragment builds. A configuration that stops building
fails this test, with its build output. The tool runs with the test suite's
builder (conftest.ensure_built): a configuration another test has built in
this run is not built again, and one built here is there for the others."""
import os
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import ROOT, ensure_built

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import build_matrix  # noqa: E402


@pytest.mark.timeout(3600)  # every configuration: ~8 min warm, longer from a cold ccache
def test_every_configuration_builds_on_every_board(capsys):
    junit = os.path.join(ROOT, 'build', 'test-results', 'matrix-junit.xml')

    def build(bsp, name, fragment, jobs):
        return ensure_built(bsp, name, [fragment] if fragment else (), jobs)

    status = build_matrix.main(['-j2', '-q', '--junit', junit], build=build)
    assert status == 0, capsys.readouterr().out[-20000:]
    suite = ET.parse(junit).getroot()
    cases = {(c.get('classname').split('.', 1)[1], c.get('name')) for c in suite}
    expected = set()
    for name, fragment in build_matrix.configurations():
        only = build_matrix.boards_of(fragment)
        for bsp in build_matrix.footprint.boards():
            if only is None or bsp in only:
                expected.add((bsp, name))
    assert cases == expected
    assert suite.get('failures') == '0'
    # The named configurations a user expects are part of it.
    names = {name for _, name in cases}
    for name in ('default', 'minimal', 'virtio-legacy-only', 'virtio-modern-only',
                 'device-blk-only', 'device-net-only', 'device-console-only',
                 'device-rng-only', 'devices-all', 'tick-100hz', 'tick-1000hz-periodic',
                 'tick-10000hz', 'queues-small', 'queues-large'):
        assert name in names, name

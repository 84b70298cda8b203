"""Parts of tools/bench.py that live in their own modules."""

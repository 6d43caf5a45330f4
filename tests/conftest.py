"""Shared pytest set-up for the whole suite."""
import os
import sys

# The tests import their shared helpers (tests/helpers.py) as ``helpers``, whatever
# pytest's import mode.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: starts real runs of a second or more (still part of every run)")

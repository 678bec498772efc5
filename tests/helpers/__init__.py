"""Helpers the test modules share (not tests themselves: no ``test_*`` module here).

Test modules import from here, or take the fixtures ``conftest.py`` builds on these;
no test module imports another.
"""

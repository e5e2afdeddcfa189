"""`intake demo`: the bot's whole June against embedded mail servers, with nothing to set up.

servers.py runs the IMAP mailbox (pymap, in memory) and the SMTP sink in this process,
mailbag.py writes the units' mail, run.py plays the campaign's calendar through the real bot.
"""
from .run import DemoError, DemoPaths, run_demo

__all__ = ["DemoError", "DemoPaths", "run_demo"]

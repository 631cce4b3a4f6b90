"""A local, faithful emulator of TikTok's Login Kit and Content Posting API (see README.md)."""

from .config import EmulatorConfig, TestAccount
from .emulator import Emulator

__all__ = ["Emulator", "EmulatorConfig", "TestAccount"]

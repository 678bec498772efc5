"""crmtui: a keyboard-first terminal app for your CRM, online and offline."""

__version__ = "0.1.0"

"""Admins and curators: /gaps, /drafts and /reload in chat (handlers.py, only for ADMIN_IDS) and the
``partnerbot kb`` commands (cli.py)."""

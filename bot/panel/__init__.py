"""The human panel: a question the bot cannot answer goes to a panel chat; a member's reply comes back to the
asker, who may rate it; an admin may save it as a knowledge-base draft. store.py holds the rules (plain Python),
handlers.py the Telegram side."""

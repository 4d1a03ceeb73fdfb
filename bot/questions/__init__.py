"""Questions: answering from the knowledge base (handlers/ask.py), topics, inline mode, answer votes, the log of
unanswered questions and its gaps report, the 30-day retention (retention.py) and the privacy hooks (privacy.py).
Rules are plain Python in this package; handlers/ is the Telegram side."""

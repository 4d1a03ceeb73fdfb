"""What serves every feature: settings, start-up, the database guard and services, persistence, errors,
throttling, callback data, keyboards and message helpers, handler groups, the command-line helpers, and the Bot API
emulation (local_api, local_request) behind the terminal chat and the tests. It imports no feature."""

"""Privacy: /privacy, /mydata and /forget (handlers.py), gathering every feature's export and forget hooks
(gather.py) so that no feature can be forgotten."""

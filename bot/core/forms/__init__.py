"""What every form (a conversation that asks questions one at a time) needs, in plain Python: reading
typed answers forgivingly, UK dates and times, time zones by place name, telling a question from an
answer, and explaining a time moved by the clocks changing. No Telegram types here: the flows in the
feature packages call these rules and turn their results into messages and buttons.
"""

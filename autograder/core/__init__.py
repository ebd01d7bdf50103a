"""The bottom layer: plain data and pure functions every other layer uses (the parts and their
conventions, the cases, how an answer is compared, what a call gave back). It imports nothing of
the project's but the config."""

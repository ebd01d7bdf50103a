"""One package per homework, each holding its HOMEWORK (core.homework.Homework), registered by name
in core.homework.HOMEWORKS; the engine reaches them only through that interface."""

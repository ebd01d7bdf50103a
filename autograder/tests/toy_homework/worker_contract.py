"""The toy homework's calling convention, run in the worker: a call of "dot" runs
Dot().dot(a, b) of the submission's class Dot."""


def resolve(module, name):
    cls = getattr(module, "Dot", None)
    if name != "dot" or not isinstance(cls, type):
        return None

    def call(a, b):
        return cls().dot(a, b)

    return call

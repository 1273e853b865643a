"""Straight-line calls over the registry, for numba: one generator, used by the kernel's
tiers (``kernel_tiers``) and the MarketParams writer (``params``).

``straight_line_calls(name, signature, calls)`` returns a function ``name(signature)``
that numba compiles as one direct call per entry of ``calls`` (label, callee, argument
text; the label names the callee in the generated text), in that order, inlined into
its caller. Why source text: numba cannot call "the hook of registry entry i" by a
run-time value, and the static ways to loop over a tuple of functions inside numba
cost time (``literal_unroll`` over indices compiles to a loop with a switch, ~35 ns
more per call of the MarketParams writer; a tuple of dispatchers compiles as numba's
experimental first-class function values, indirect calls with a warning per compile;
an overload recursing on a literal index did not finish compiling). So the body is
written once at import (``exec``) and an ``@overload`` with ``inline="always"`` puts it
into the caller: the caller compiles as the one function a hand-written list of calls
was. The returned function is callable only inside numba.
"""

from collections.abc import Callable, Sequence

from numba.extending import overload


def straight_line_calls(name: str, signature: str, calls: Sequence[tuple[str, Callable, str]]) -> Callable:
    """``name(signature)``: inside numba, ``callee(arguments)`` for each (label, callee,
    arguments) of ``calls`` in order (nothing for an empty ``calls``); outside numba it
    raises. ``.source`` is the generated text."""
    labels = [label for label, _, _ in calls]
    if len(set(labels)) != len(labels) or not all(label.isidentifier() for label in labels):
        raise ValueError(f"{name}: labels must be distinct identifiers: {labels}")
    space: dict = {label: fn for label, fn, _ in calls}
    body = [f"    {label}({args})" for label, _, args in calls]
    source = "\n".join([
        f"def {name}({signature}):",
        *body,
        "    return",
        "",
        f"def _stub_{name}({signature}):",
        f"    raise NotImplementedError('{name}: only inside numba (straight-line calls)')",
        "",
        f"def _typer_{name}({signature}):",
        f"    return {name}",
        "",
    ])
    exec(compile(source, f"<{__name__}: {name}>", "exec"), space)  # noqa: S102
    stub = space[f"_stub_{name}"]
    stub.__name__ = stub.__qualname__ = name
    stub.source = source  # the generated text, for tests and for reading
    stub.callees = tuple(fn for _, fn, _ in calls)
    overload(stub, inline="always")(space[f"_typer_{name}"])
    return stub

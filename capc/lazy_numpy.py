"""numpy, imported the first time a value really needs it.

Importing numpy costs 35-65 ms on the development machine, a sixth of a whole `capc check`
process or more, yet many policies never make an array: `capc check` of a policy that only moves objects by name,
and every front-end reject, should not pay for it. The modules on the check path therefore
write `from capc.lazy_numpy import np` instead of `import numpy as np` and use `np` exactly
as before:

- any attribute (`np.array`, `np.linalg`, `np.errstate`) imports numpy on first access and
  is then kept on the proxy, so later look-ups cost what a module attribute costs;
- the type names used in `isinstance` checks (`np.ndarray`, `np.generic`, ...) do not
  import numpy: until numpy is loaded they answer with a stand-in class of which nothing is
  an instance. That is exact, not an approximation: no numpy value can exist before some
  module has imported numpy. A stand-in keeps asking `sys.modules`, so it stays right even
  when a module-level table captured it before numpy was loaded;
- `np_functions.linalg.norm` (an `np_function`) stands for a numpy function in a table
  built at import time: numpy is imported, and the function looked up, on its first call.
"""

from __future__ import annotations

import sys
from typing import Any

# The numpy types capc tests values against. Asking for one of them before numpy is
# loaded must not load it (see the module docstring).
TYPE_NAMES = ("ndarray", "generic", "number", "integer", "floating", "bool_")


def _numpy_if_loaded():
    return sys.modules.get("numpy")


class _StandInMeta(type):
    """The class of a stand-in for the numpy type `numpy_name`: a value is an instance (a
    class a subclass) of the stand-in exactly when it is one of the real type, which needs
    numpy loaded."""

    def __instancecheck__(cls, value: Any) -> bool:
        numpy = _numpy_if_loaded()
        return numpy is not None and isinstance(value, getattr(numpy, cls.numpy_name))

    def __subclasscheck__(cls, sub: type) -> bool:
        numpy = _numpy_if_loaded()
        return numpy is not None and issubclass(sub, getattr(numpy, cls.numpy_name))

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:  # np.bool_(x): the real constructor
        import numpy

        return getattr(numpy, cls.numpy_name)(*args, **kwargs)


_STAND_INS = {name: _StandInMeta(f"numpy_{name}_not_loaded", (), {"numpy_name": name})
              for name in TYPE_NAMES}


class LazyNumpy:
    """The `np` of capc's modules (one shared instance)."""

    def __getattr__(self, name: str) -> Any:  # only called for names not yet kept
        numpy = _numpy_if_loaded()
        if numpy is None:
            if name in _STAND_INS:
                return _STAND_INS[name]
            import numpy
        value = getattr(numpy, name)
        setattr(self, name, value)  # plain attribute from now on
        return value

    def __repr__(self) -> str:
        loaded = "loaded" if _numpy_if_loaded() is not None else "not loaded yet"
        return f"<numpy, imported on first use ({loaded})>"


np = LazyNumpy()


class np_function:
    """`np.<path>` for a table built at import time: numpy is imported, and the function
    looked up, on the first call."""

    __slots__ = ("path", "_fn")

    def __init__(self, path: str):
        self.path = path
        self._fn = None

    def __getattr__(self, name: str) -> "np_function":  # np_functions.linalg.norm
        if name.startswith("_"):
            raise AttributeError(name)
        return np_function(f"{self.path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self._fn
        if fn is None:
            fn = np
            for part in self.path.split("."):
                fn = getattr(fn, part)
            self._fn = fn
        return fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<np.{self.path}, imported on first call>"


class _NumpyFunctions:
    def __getattr__(self, name: str) -> np_function:
        if name.startswith("_"):
            raise AttributeError(name)
        return np_function(name)


# `np_functions.mean` is `np_function("mean")`: the spelling of a module-level table of
# numpy functions stays that of numpy (`npf.linalg.norm`).
np_functions = _NumpyFunctions()

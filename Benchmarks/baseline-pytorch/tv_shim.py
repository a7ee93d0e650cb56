"""Make `import timm` work when torchvision is unusable.

timm imports torchvision at import time (data transforms, FrozenBatchNorm2d),
but the Swin model code path does not use it. On this machine, the only
torchvision wheels available (PyPI) are CUDA builds whose C extension needs
libtorch_cuda, which the local torch 2.13.0+cpu wheel does not provide.

If the real torchvision imports cleanly it is used as is. Otherwise a
permissive placeholder package is registered in sys.modules: any attribute
or submodule resolves to a placeholder class. Nothing on the model's forward
path touches it.
"""
import importlib.abc
import importlib.machinery
import sys
import types


class _AnyMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _make_placeholder(f"{cls.__name__}.{name}")

    def __iter__(cls):
        return iter(())


def _make_placeholder(name):
    return _AnyMeta(name, (object,), {"__init__": lambda self, *a, **k: None})


class _AnyModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        full = f"{self.__name__}.{name}"
        if full in sys.modules:
            return sys.modules[full]
        val = _make_placeholder(full)
        setattr(self, name, val)
        return val


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "torchvision" or fullname.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        mod = _AnyModule(spec.name)
        mod.__path__ = []
        mod.__version__ = "0.0.0+placeholder"
        return mod

    def exec_module(self, module):
        parent, _, child = module.__name__.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def install():
    """Return True if a placeholder was installed, False if real torchvision works."""
    try:
        import torchvision  # noqa: F401
        return False
    except Exception:
        for k in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[k]
        sys.meta_path.insert(0, _Finder())
        return True
